using System.Diagnostics;
using System.Text.Json;
using LeakHunter.Index.Imaging;
using LeakHunter.Index.Matching;
using OpenCvSharp;

namespace LeakHunter.SiloHost.Commands;

/// <summary>
/// <c>leakhunter bench match --originals DIR --queries DIR [--truth truth.csv] [--threads N]
/// [--extra-originals DIR --extra-count N] [--details FILE] [--keep DIR] [--warmup N] [--no-embeddings]</c>: registers the
/// originals (plus, optionally, N synthetic extra originals cut from the pictures in another folder: crops at
/// several scales and their mirrors, to measure at scale; with --keep the fingerprints and vectors stay in DIR
/// and a later run only registers what is missing), matches the first N (default 20) queries untimed to warm up, matches every query and prints per-family recall, false matches,
/// throughput (queries per second for matching and non-matching queries, from per-query latency times the
/// number of threads) and memory per registered original. The last line is one JSON object with the figures.
/// </summary>
public static class BenchMatchCommand
{
    public static Task<int> RunAsync(string[] args)
    {
        var opts = CliOptions.Parse("bench match", args,
            ["--originals", "--queries", "--truth", "--threads", "--extra-originals", "--extra-count", "--details", "--keep", "--warmup"], ["--no-embeddings"]);
        string originals = opts.Required("--originals"), queries = opts.Required("--queries");
        int threads = opts.Int("--threads", 2);
        var truth = opts.Get("--truth") is { } t ? ReadTruth(t) : null;
        if (opts.Get("--extra-originals") is not null != opts.Get("--extra-count") is not null)
            throw new UsageException("bench match: --extra-originals and --extra-count go together");

        var options = new MatcherOptions();
        GC.Collect();
        GC.WaitForPendingFinalizers();
        long before = GC.GetTotalMemory(true);
        var sw = Stopwatch.StartNew();
        using var scratch = new ScratchMatcher(options, embeddings: !opts.Has("--no-embeddings"), opts.Get("--keep"));
        var matcher = scratch.Matcher;
        int kept = matcher.Count;
        int registered = MatchCommand.RegisterAll(matcher, originals, threads);
        int extra = 0;
        if (opts.Get("--extra-originals") is { } extraDir)
            extra = RegisterExtra(matcher, extraDir, opts.Int("--extra-count", 1), threads);
        double registerSeconds = sw.Elapsed.TotalSeconds;
        GC.Collect();
        GC.WaitForPendingFinalizers();
        long after = GC.GetTotalMemory(true);
        int total = matcher.Count;
        Console.WriteLine($"registered {registered} originals + {extra} extra in {registerSeconds:0.0}s " +
                          (kept > 0 ? $"(after loading {kept} kept ones)" : $"({registerSeconds / Math.Max(1, total) * threads * 1000:0} ms each per thread)"));

        var files = CliOptions.Files(queries, "--queries");
        // Steady state is what a crawler sees: the first queries also pay for compiling the code they run.
        int warmup = Math.Min(opts.Int("--warmup", 20), files.Length);
        Parallel.For(0, warmup, new ParallelOptions { MaxDegreeOfParallelism = threads }, i =>
        {
            try { matcher.Explain(File.ReadAllBytes(files[i])); }
            catch (ImageRejectedException) { }
        });
        var results = new (string Name, MatchDiagnostics? D, double Ms, string? Error)[files.Length];
        sw.Restart();
        Parallel.For(0, files.Length, new ParallelOptions { MaxDegreeOfParallelism = threads }, i =>
        {
            var bytes = File.ReadAllBytes(files[i]);
            var qsw = Stopwatch.StartNew();
            MatchDiagnostics? d = null;
            string? err = null;
            try { d = matcher.Explain(bytes); }
            catch (ImageRejectedException e) { err = e.Message; }
            results[i] = (Path.GetFileName(files[i]), d, qsw.Elapsed.TotalMilliseconds, err);
        });
        double wall = sw.Elapsed.TotalSeconds;

        var famTotal = new SortedDictionary<string, int>(StringComparer.Ordinal);
        var famOk = new SortedDictionary<string, int>(StringComparer.Ordinal);
        var falseMatches = new List<string>();
        double msMatch = 0, msNon = 0;
        int nMatch = 0, nNon = 0;
        StreamWriter? details = opts.Get("--details") is { } df ? new StreamWriter(df) : null;
        foreach (var (name, d, ms, err) in results)
        {
            var m = d?.Match;
            string? expected = null;
            string family = "?";
            if (truth is not null && truth.TryGetValue(name, out var tr))
                (expected, family) = tr;
            bool isCopy = truth is not null ? expected is not null : m is not null;
            if (isCopy) { msMatch += ms; nMatch++; } else { msNon += ms; nNon++; }
            if (truth is not null)
            {
                if (expected is not null)
                {
                    famTotal[family] = famTotal.GetValueOrDefault(family) + 1;
                    if (m?.OriginalId == expected)
                        famOk[family] = famOk.GetValueOrDefault(family) + 1;
                }
                if (m is not null && m.OriginalId != expected)
                    falseMatches.Add($"{name}->{m.OriginalId} (expected {expected ?? "nothing"}, {family})");
            }
            details?.WriteLine(JsonSerializer.Serialize(new
            {
                query = name, family, expected, match = m?.OriginalId, score = m?.Score, best = d?.BestCandidate,
                inliers = d?.DistinctInliers, coverage = d is null ? (double?)null : Math.Round(d.Coverage, 3), cells = d?.Cells, agreement = d?.Agreement is { } ag ? Math.Round(ag, 3) : (double?)null, verifications = d?.Verifications, region = d?.Region, regionsTried = d?.RegionsTried, candidates = d?.Candidates, ms = Math.Round(ms, 1), stages = d?.Timings, error = err,
            }));
        }
        details?.Dispose();

        int found = famOk.Values.Sum(), copies = famTotal.Values.Sum();
        foreach (var (fam, n) in famTotal)
            Console.WriteLine($"  {fam,-14} {famOk.GetValueOrDefault(fam),4}/{n,-4} {100.0 * famOk.GetValueOrDefault(fam) / n,6:0.0}%");
        foreach (var f in falseMatches)
            Console.WriteLine($"  FALSE MATCH {f}");
        var timed = results.Where(r => r.D?.Timings is not null).Select(r => r.D!.Timings!).ToList();
        if (timed.Count > 0)
            Console.WriteLine($"stages (mean ms per query): decode {timed.Average(t => t.DecodeMs):0.0}, features {timed.Average(t => t.FeaturesMs):0.0}, " +
                              $"candidates {timed.Average(t => t.CandidatesMs):0.0} (embedding {timed.Average(t => t.EmbeddingMs):0.0}, votes {timed.Average(t => t.VotesMs):0.0}), verification {timed.Average(t => t.VerifyMs):0.0}");
        double qpsMatch = nMatch == 0 ? 0 : nMatch / (msMatch / 1000) * threads;
        double qpsNon = nNon == 0 ? 0 : nNon / (msNon / 1000) * threads;
        long bytesPer = total == 0 ? 0 : (after - before) / total;
        long indexBytesPer = total == 0 ? 0 : matcher.ApproximateBytes / total;
        Console.WriteLine($"queries {files.Length} in {wall:0.0}s wall ({files.Length / wall:0.0}/s overall, {threads} threads); " +
                          $"matching {qpsMatch:0.0}/s (mean {(nMatch == 0 ? 0 : msMatch / nMatch):0.0} ms), non-matching {qpsNon:0.0}/s (mean {(nNon == 0 ? 0 : msNon / nNon):0.0} ms)");
        Console.WriteLine($"originals {total}; managed memory {bytesPer / 1024.0:0.0} KiB per original (fingerprint estimate {indexBytesPer / 1024.0:0.0} KiB)");
        if (truth is not null)
            Console.WriteLine($"recall {(copies == 0 ? 0 : 100.0 * found / copies):0.0}% ({found}/{copies}), false matches {falseMatches.Count}");
        var summary = new Dictionary<string, object?>
        {
            ["originals"] = total,
            ["queries"] = files.Length,
            ["recall"] = truth is null || copies == 0 ? null : Math.Round((double)found / copies, 4),
            ["familyRecall"] = truth is null ? null : famTotal.ToDictionary(kv => kv.Key, kv => Math.Round((double)famOk.GetValueOrDefault(kv.Key) / kv.Value, 4)),
            ["falseMatches"] = truth is null ? null : falseMatches.Count,
            ["matchingQueriesPerSecond"] = Math.Round(qpsMatch, 1),
            ["nonMatchingQueriesPerSecond"] = Math.Round(qpsNon, 1),
            ["overallQueriesPerSecond"] = Math.Round(files.Length / wall, 1),
            ["threads"] = threads,
            ["bytesPerOriginal"] = bytesPer,
            ["fingerprintBytesPerOriginal"] = indexBytesPer,
        };
        Console.WriteLine(JsonSerializer.Serialize(summary));
        return Task.FromResult(truth is not null && falseMatches.Count > 0 ? 1 : 0);
    }

    private static Dictionary<string, (string?, string)> ReadTruth(string path)
    {
        if (!File.Exists(path))
            throw new UsageException($"--truth: '{path}' does not exist");
        var d = new Dictionary<string, (string?, string)>(StringComparer.Ordinal);
        foreach (var line in File.ReadLines(path).Skip(1))
        {
            var p = line.Split(',');
            if (p.Length < 3) continue;
            d[p[0]] = (string.IsNullOrEmpty(p[1]) ? null : p[1], p[2]);
        }
        return d;
    }

    /// <summary>Registers N synthetic originals: crops (40-100 % of each side) of the pictures in a folder, half of them mirrored.</summary>
    private static int RegisterExtra(CopyMatcher matcher, string dir, int count, int threads)
    {
        var sources = CliOptions.Files(dir, "--extra-originals");
        if (sources.Length == 0) return 0;
        int ok = 0;
        Parallel.For(0, count, new ParallelOptions { MaxDegreeOfParallelism = threads }, i =>
        {
            if (matcher.Get($"extra-{i:D5}") is not null)
            {
                Interlocked.Increment(ref ok); // kept from an earlier run (--keep)
                return;
            }
            var rng = new Random(i);
            var src = sources[i % sources.Length];
            try
            {
                using var img = Cv2.ImRead(src, ImreadModes.Color);
                if (img.Empty()) return;
                double sx = i < sources.Length ? 1.0 : 0.4 + 0.6 * rng.NextDouble();
                double sy = i < sources.Length ? 1.0 : 0.4 + 0.6 * rng.NextDouble();
                int w = Math.Max(32, (int)(img.Width * sx)), h = Math.Max(32, (int)(img.Height * sy));
                int x = rng.Next(0, img.Width - w + 1), y = rng.Next(0, img.Height - h + 1);
                using var crop = new Mat(img, new Rect(x, y, w, h));
                using var outImg = new Mat();
                if ((i / sources.Length) % 2 == 1) Cv2.Flip(crop, outImg, FlipMode.Y); else crop.CopyTo(outImg);
                Cv2.ImEncode(".jpg", outImg, out var bytes, new ImageEncodingParam(ImwriteFlags.JpegQuality, 90));
                matcher.Register($"extra-{i:D5}", bytes);
                Interlocked.Increment(ref ok);
            }
            catch (ImageRejectedException)
            {
            }
        });
        return ok;
    }
}
