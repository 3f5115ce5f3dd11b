using System.Diagnostics;
using System.Text.Json;
using LeakHunter.Index.Embedding;
using OpenCvSharp;

namespace LeakHunter.SiloHost.Commands;

/// <summary>
/// <c>leakhunter bench embedding [--split DIR] [--manifest PATH] [--threads N]</c>: on a leakbench split
/// (default ../shared/leakbench/dev) the share of positive queries whose original is among the top 10
/// candidates (and ranked first), per family, for the embedding and for pHash, both over the same
/// windows of each original; plus the embedding time of one decoded image on one thread.
/// The last line is JSON: {"model", "msPerImage", "families": [...]}.
/// </summary>
public static class BenchEmbeddingCommand
{
    public static Task<int> RunAsync(string[] args)
    {
        var o = CommandArgs.Parse(args, ["split", "manifest", "threads"]);
        var split = o.GetValueOrDefault("split") ?? FindSplit() ?? throw new UsageException("bench embedding: --split DIR is required (no ../shared/leakbench/dev found)");
        if (!File.Exists(Path.Combine(split, "truth.csv"))) throw new UsageException($"bench embedding: {split} has no truth.csv");
        var threads = CommandArgs.Int(o, "threads", 2, 1, 256);
        var manifestPath = o.GetValueOrDefault("manifest") ?? OnnxEmbedder.FindDefaultManifest()
            ?? throw new UsageException("bench embedding: no --manifest and models/leakhunter-copydetect.json not found");
        EmbeddingManifest manifest;
        try { manifest = EmbeddingManifest.Load(manifestPath); }
        catch (Exception e) when (e is InvalidDataException or IOException) { throw new UsageException($"bench embedding: {e.Message}"); }

        // Latency: one decoded image at a time, one intra-op thread.
        using var single = new OnnxEmbedder(manifest, threads: 1, batchSize: 1);
        var sample = Directory.GetFiles(Path.Combine(split, "queries")).Order().Take(40).Select(p => Cv2.ImRead(p, ImreadModes.Color)).ToList();
        single.Embed(sample[0]);
        var clock = Stopwatch.StartNew();
        foreach (var m in sample) single.Embed(m);
        var msPerImage = clock.Elapsed.TotalMilliseconds / sample.Count;
        foreach (var m in sample) m.Dispose();

        using var embedder = new OnnxEmbedder(manifest, threads, batchSize: 32);
        var families = LeakbenchEvaluation.Run(split, embedder.EmbedBatch, 10, log: Console.Error.WriteLine);
        Console.WriteLine($"{"family",-10} {"n",4}  {"emb@10",7} {"pHash@10",8}  {"emb@1",6} {"pHash@1",7}");
        foreach (var f in families)
            Console.WriteLine($"{f.Family,-10} {f.Queries,4}  {f.Embedding,7:P0} {f.PHash,8:P0}  {f.EmbeddingTop1,6:P0} {f.PHashTop1,7:P0}");
        Console.WriteLine($"embedding of one decoded image (incl. resize), 1 thread: {msPerImage:0.00} ms");
        Console.WriteLine(JsonSerializer.Serialize(new { model = manifest.Name, msPerImage = Math.Round(msPerImage, 2), families }));
        return Task.FromResult(0);
    }

    private static string? FindSplit()
    {
        for (var dir = new DirectoryInfo(Directory.GetCurrentDirectory()); dir != null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "shared", "leakbench", "dev");
            if (File.Exists(Path.Combine(candidate, "truth.csv"))) return candidate;
        }
        return null;
    }
}
