using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using LeakHunter.Index.HashIndex;
using LeakHunter.Index.Vectors;

namespace LeakHunter.SiloHost.Commands;

/// <summary>
/// <c>leakhunter bench index [--count N]... [--dim 256] [--queries 300] [--probes 128] [--exact-threshold 20000] [--dir DIR]</c>:
/// builds the embedded vector index and a 256-bit hash index on synthetic data and reports build time,
/// managed memory per entry, query latency p50/p99 and recall@10 of the approximate search against exact
/// search, for each count (default 100000 and 1000000). The last line is a JSON array, one object per count.
/// <para>Synthetic data: clusters of 20 vectors (an original's windows and near copies; within-cluster
/// cosine ≈ 0.8, --spread 0.8 gives ≈ 0.6) around random unit centres; queries are stored vectors plus noise (like a leak of a
/// window). Hashes: random 256-bit values; each hash query is a stored hash with 0–31 bits flipped.</para>
/// </summary>
public static class BenchIndexCommand
{
    public static async Task<int> RunAsync(string[] args)
    {
        var o = CommandArgs.Parse(args, ["count", "dim", "queries", "probes", "exact-threshold", "dir", "spread"]);
        if (o.TryGetValue("spread", out var sp))
            Spread = float.TryParse(sp, System.Globalization.NumberStyles.Float, CultureInfo.InvariantCulture, out var spread) && spread is >= 0 and <= 10
                ? spread : throw new UsageException($"--spread must be a number from 0 to 10, not '{sp}'");
        var counts = o.TryGetValue("count", out var c)
            ? c.Split(',').Select(s => int.TryParse(s.Replace("_", ""), out var n) && n > 0 && n <= 20_000_000 ? n : throw new UsageException($"--count must be a positive integer up to 20000000, not '{s}'")).ToArray()
            : [100_000, 1_000_000];
        var dim = CommandArgs.Int(o, "dim", 256, 8, 4096);
        var queries = CommandArgs.Int(o, "queries", 300, 10, 100_000);
        var probes = CommandArgs.Int(o, "probes", new VectorIndexOptions().Probes, 1, 100_000);
        var exactThreshold = CommandArgs.Int(o, "exact-threshold", 20_000, 0, int.MaxValue);
        var results = new List<Dictionary<string, object>>();
        foreach (var count in counts)
        {
            var dir = o.TryGetValue("dir", out var d) ? Path.Combine(d, $"bench-{count}") : Path.Combine(Path.GetTempPath(), $"lh-bench-index-{Environment.ProcessId}-{count}");
            if (Directory.Exists(dir)) Directory.Delete(dir, true);
            try { results.Add(await RunOne(count, dim, queries, probes, exactThreshold, dir)); }
            finally { if (Directory.Exists(dir)) Directory.Delete(dir, true); }
        }
        Console.WriteLine(JsonSerializer.Serialize(results));
        return 0;
    }

    private static float Spread = 0.5f;

    private static float[] Gaussian(Random rng, int dim, float sigma)
    {
        var v = new float[dim];
        for (var i = 0; i < dim; i += 2)
        {
            var u1 = 1.0 - rng.NextDouble();
            var u2 = rng.NextDouble();
            var r = Math.Sqrt(-2 * Math.Log(u1)) * sigma;
            v[i] = (float)(r * Math.Cos(2 * Math.PI * u2));
            if (i + 1 < dim) v[i + 1] = (float)(r * Math.Sin(2 * Math.PI * u2));
        }
        return v;
    }

    /// <summary>Vector i of the synthetic set (deterministic, so nothing needs to be kept in memory).</summary>
    private static float[] Synthetic(int i, int dim)
    {
        const int cluster = 20;
        // Spread 0.5: within-cluster cosine ≈ 0.8 (--spread 0.8 gives ≈ 0.6, a harder set).
        var centre = VectorMath.Normalized(Gaussian(new Random(1_000_003 * (i / cluster) + 17), dim, 1));
        var noise = Gaussian(new Random(i * 7919 + 3), dim, Spread / MathF.Sqrt(dim));
        for (var j = 0; j < dim; j++) centre[j] += noise[j];
        return centre;
    }

    private static async Task<Dictionary<string, object>> RunOne(int count, int dim, int queryCount, int probes, int exactThreshold, string dir)
    {
        var options = new VectorIndexOptions { Dimension = dim, Probes = probes, ExactThreshold = exactThreshold, Fsync = true };
        GC.Collect(2, GCCollectionMode.Forced, true, true);
        var before = GC.GetTotalMemory(true);
        var clock = Stopwatch.StartNew();
        using var index = EmbeddedVectorIndex.Open(dir, options);
        const int batch = 5000;
        for (var start = 0; start < count; start += batch)
        {
            var n = Math.Min(batch, count - start);
            var records = new VectorRecord[n];
            Parallel.For(0, n, i => records[i] = new VectorRecord((ulong)(start + i), Synthetic(start + i, dim),
                new VectorPayload("o" + ((start + i) / 20).ToString(CultureInfo.InvariantCulture), "w" + ((start + i) % 20).ToString(CultureInfo.InvariantCulture))));
            await index.UpsertAsync(records);
        }
        var buildSeconds = clock.Elapsed.TotalSeconds;
        var after = GC.GetTotalMemory(true);
        var bytesPerEntry = (double)(after - before) / count;

        var rng = new Random(99);
        var queries = Enumerable.Range(0, queryCount).Select(_ =>
        {
            var q = Synthetic(rng.Next(count), dim);
            var noise = Gaussian(rng, dim, 0.3f / MathF.Sqrt(dim));
            for (var j = 0; j < dim; j++) q[j] += noise[j];
            return q;
        }).ToList();
        for (var i = 0; i < Math.Min(20, queryCount); i++) index.Search(queries[i], 10); // warm up
        var latencies = new List<double>();
        var approx = new List<IReadOnlyList<VectorHit>>();
        foreach (var q in queries)
        {
            var t = Stopwatch.GetTimestamp();
            approx.Add(index.Search(q, 10));
            latencies.Add(Stopwatch.GetElapsedTime(t).TotalMilliseconds);
        }
        var exactLatencies = new List<double>();
        double found = 0;
        for (var i = 0; i < queries.Count; i++)
        {
            var t = Stopwatch.GetTimestamp();
            var exact = index.Search(queries[i], 10, exact: true).Select(h => h.Id).ToHashSet();
            exactLatencies.Add(Stopwatch.GetElapsedTime(t).TotalMilliseconds);
            found += approx[i].Count(h => exact.Contains(h.Id)) / (double)Math.Max(1, exact.Count);
        }
        var recall = found / queries.Count;

        // Hash index: count random 256-bit hashes, queries within 31 bits of a stored one.
        GC.Collect(2, GCCollectionMode.Forced, true, true);
        var hashBefore = GC.GetTotalMemory(true);
        var hclock = Stopwatch.StartNew();
        var hashes = new HammingIndex(256);
        var hrng = new Random(5);
        var stored = new ulong[Math.Min(count, 10_000)][];
        var h = new ulong[4];
        for (var i = 0; i < count; i++)
        {
            for (var w = 0; w < 4; w++) h[w] = (ulong)hrng.NextInt64() ^ ((ulong)hrng.Next(2) << 63);
            if (i < stored.Length) stored[i] = (ulong[])h.Clone();
            hashes.Add(i, h);
        }
        var hashBuild = hclock.Elapsed.TotalSeconds;
        var hashBytes = (double)(GC.GetTotalMemory(true) - hashBefore) / count;
        var hashLatencies = new List<double>();
        var hashMissed = 0;
        for (var q = 0; q < queryCount; q++)
        {
            var query = (ulong[])stored[hrng.Next(stored.Length)].Clone();
            var flips = hrng.Next(32);
            foreach (var b in Enumerable.Range(0, 256).OrderBy(_ => hrng.Next()).Take(flips)) query[b / 64] ^= 1UL << (b % 64);
            var t = Stopwatch.GetTimestamp();
            var hits = hashes.Search(query, 31);
            hashLatencies.Add(Stopwatch.GetElapsedTime(t).TotalMilliseconds);
            if (q < 20 && hashes.SearchExact(query, 31).Count != hits.Count) hashMissed++;
            if (hits.Count == 0 || hits[0].Distance != flips) hashMissed++;
        }

        var result = new Dictionary<string, object>
        {
            ["count"] = count,
            ["dim"] = dim,
            ["spread"] = Spread,
            ["buildSeconds"] = Math.Round(buildSeconds, 1),
            ["bytesPerEntry"] = Math.Round(bytesPerEntry),
            ["p50Ms"] = Math.Round(Percentile(latencies, 0.5), 3),
            ["p99Ms"] = Math.Round(Percentile(latencies, 0.99), 3),
            ["recallAt10"] = Math.Round(recall, 4),
            ["approximate"] = index.IsApproximate,
            ["exactP50Ms"] = Math.Round(Percentile(exactLatencies, 0.5), 3),
            ["hashBuildSeconds"] = Math.Round(hashBuild, 1),
            ["hashBytesPerEntry"] = Math.Round(hashBytes),
            ["hashP50Ms"] = Math.Round(Percentile(hashLatencies, 0.5), 3),
            ["hashP99Ms"] = Math.Round(Percentile(hashLatencies, 0.99), 3),
            ["hashMissed"] = hashMissed,
        };
        Console.WriteLine($"N={count}: build {buildSeconds:0.0}s, {bytesPerEntry:0} B/entry, query p50 {result["p50Ms"]} ms p99 {result["p99Ms"]} ms, " +
            $"recall@10 {recall:0.0000} (exact scan p50 {result["exactP50Ms"]} ms); PDQ hash index: build {hashBuild:0.0}s, {hashBytes:0} B/entry, " +
            $"radius-31 query p50 {result["hashP50Ms"]} ms p99 {result["hashP99Ms"]} ms, missed {hashMissed}");
        return result;
    }

    private static double Percentile(List<double> values, double p)
    {
        var sorted = values.Order().ToList();
        return sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Count) - 1, 0, sorted.Count - 1)];
    }
}
