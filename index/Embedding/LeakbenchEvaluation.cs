using System.Numerics;
using System.Numerics.Tensors;
using OpenCvSharp;

namespace LeakHunter.Index.Embedding;

/// <summary>Share of positive queries of one family whose original is among the top k candidates.</summary>
/// <remarks>Embedding/PHash: share with the original in the top k; the *Top1 members: share ranked first.</remarks>
public sealed record FamilyRecall(string Family, int Queries, double Embedding, double PHash, double EmbeddingTop1, double PHashTop1);

/// <summary>
/// Candidate-source quality on a leakbench split (originals/, queries/, truth.csv): every original
/// is indexed by its <see cref="CopyWindows"/> (embedding and 64-bit pHash of each window); a query's
/// candidates are the originals ranked by their best window (cosine for the embedding, Hamming for
/// pHash); a positive query counts when its original is among the top k.
/// </summary>
public static class LeakbenchEvaluation
{
    public static IReadOnlyList<FamilyRecall> Run(string splitDir, Func<IReadOnlyList<Mat>, float[][]> embed, int k = 10,
        IReadOnlyList<ImageWindow>? windows = null, Action<string>? log = null)
    {
        windows ??= CopyWindows.Default;
        var originals = Directory.GetFiles(Path.Combine(splitDir, "originals")).Order().ToList();
        var owner = new List<string>();
        var embeddings = new List<float[]>();
        var hashes = new List<ulong>();
        foreach (var path in originals)
        {
            using var image = Cv2.ImRead(path, ImreadModes.Color);
            if (image.Empty()) throw new InvalidDataException($"cannot decode {path}");
            var cuts = windows.Select(w => w.Cut(image)).ToList();
            embeddings.AddRange(embed(cuts));
            hashes.AddRange(cuts.Select(PHash));
            owner.AddRange(Enumerable.Repeat(Path.GetFileNameWithoutExtension(path), cuts.Count));
            foreach (var c in cuts) c.Dispose();
        }
        log?.Invoke($"indexed {originals.Count} originals, {owner.Count} windows");
        var truth = File.ReadAllLines(Path.Combine(splitDir, "truth.csv")).Skip(1)
            .Select(l => l.Split(',')).Where(f => f.Length >= 3 && !f[2].StartsWith("distractor", StringComparison.Ordinal))
            .Select(f => (Query: f[0], Original: f[1], Family: f[2])).ToList();
        var hitsE = new Dictionary<string, int>();
        var hitsP = new Dictionary<string, int>();
        var counts = new Dictionary<string, int>();
        var firstE = new Dictionary<string, int>();
        var firstP = new Dictionary<string, int>();
        const int batch = 16;
        for (var start = 0; start < truth.Count; start += batch)
        {
            var part = truth.Skip(start).Take(batch).ToList();
            var mats = part.Select(t => Cv2.ImRead(Path.Combine(splitDir, "queries", t.Query), ImreadModes.Color)).ToList();
            var qe = embed(mats);
            for (var i = 0; i < part.Count; i++)
            {
                var t = part[i];
                counts[t.Family] = counts.GetValueOrDefault(t.Family) + 1;
                var byE = new Dictionary<string, float>();
                var byP = new Dictionary<string, int>();
                var qh = PHash(mats[i]);
                for (var j = 0; j < owner.Count; j++)
                {
                    var s = TensorPrimitives.Dot(qe[i], embeddings[j]);
                    if (!byE.TryGetValue(owner[j], out var best) || s > best) byE[owner[j]] = s;
                    var d = BitOperations.PopCount(qh ^ hashes[j]);
                    if (!byP.TryGetValue(owner[j], out var bd) || d < bd) byP[owner[j]] = d;
                }
                var rankE = byE.OrderByDescending(p => p.Value).ThenBy(p => p.Key, StringComparer.Ordinal).Take(k).Select(p => p.Key).ToList();
                var rankP = byP.OrderBy(p => p.Value).ThenBy(p => p.Key, StringComparer.Ordinal).Take(k).Select(p => p.Key).ToList();
                if (rankE.Contains(t.Original)) hitsE[t.Family] = hitsE.GetValueOrDefault(t.Family) + 1;
                if (rankP.Contains(t.Original)) hitsP[t.Family] = hitsP.GetValueOrDefault(t.Family) + 1;
                if (rankE[0] == t.Original) firstE[t.Family] = firstE.GetValueOrDefault(t.Family) + 1;
                if (rankP[0] == t.Original) firstP[t.Family] = firstP.GetValueOrDefault(t.Family) + 1;
            }
            foreach (var m in mats) m.Dispose();
        }
        var result = counts.Keys.Order(StringComparer.Ordinal).Select(f => new FamilyRecall(f, counts[f],
            (double)hitsE.GetValueOrDefault(f) / counts[f], (double)hitsP.GetValueOrDefault(f) / counts[f],
            (double)firstE.GetValueOrDefault(f) / counts[f], (double)firstP.GetValueOrDefault(f) / counts[f])).ToList();
        var n = counts.Values.Sum();
        result.Add(new FamilyRecall("all", n, (double)hitsE.Values.Sum() / n, (double)hitsP.Values.Sum() / n,
            (double)firstE.Values.Sum() / n, (double)firstP.Values.Sum() / n));
        return result;
    }

    /// <summary>64-bit DCT pHash (32×32 grey, lowest 8×8 frequencies, above-median bits).</summary>
    public static ulong PHash(Mat image)
    {
        using var gray = new Mat();
        if (image.Channels() == 3) Cv2.CvtColor(image, gray, ColorConversionCodes.BGR2GRAY);
        else image.CopyTo(gray);
        using var small = new Mat();
        Cv2.Resize(gray, small, new Size(32, 32), 0, 0, InterpolationFlags.Area);
        using var f = new Mat();
        small.ConvertTo(f, MatType.CV_32F);
        using var dct = new Mat();
        Cv2.Dct(f, dct);
        var v = new float[64];
        for (var y = 0; y < 8; y++)
            for (var x = 0; x < 8; x++)
                v[y * 8 + x] = dct.At<float>(y, x);
        var median = v.Skip(1).Order().ElementAt(31);
        ulong h = 0;
        for (var i = 0; i < 64; i++)
            if (v[i] > median) h |= 1UL << i;
        return h;
    }
}
