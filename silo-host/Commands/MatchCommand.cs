using System.Diagnostics;
using System.Text.Json;
using LeakHunter.Index.Imaging;
using LeakHunter.Index;
using LeakHunter.Index.Matching;
using Microsoft.Extensions.Configuration;

namespace LeakHunter.SiloHost.Commands;

/// <summary>
/// <c>leakhunter match --originals DIR --queries DIR --out FILE [--threads N] [--max-false-rate R]</c>:
/// registers every original (id = file name without extension) in an in-memory matcher, then writes one
/// JSON line per query: <c>{"query","match","score"}</c> plus <c>"transform"</c> for a match.
/// </summary>
public static class MatchCommand
{
    public static async Task<int> RunAsync(string[] args)
    {
        var opts = CliOptions.Parse("match", args, ["--originals", "--queries", "--out", "--threads", "--max-false-rate"], ["--no-embeddings"]);
        string originals = opts.Required("--originals"), queries = opts.Required("--queries"), outFile = opts.Required("--out");
        int threads = opts.Int("--threads", 2);
        var options = new MatcherOptions();
        if (opts.Get("--max-false-rate") is { } rate)
            options.TargetFalseMatchRate = CliOptions.ParseDouble("--max-false-rate", rate);

        using var scratch = new ScratchMatcher(options, embeddings: !opts.Has("--no-embeddings"));
        var matcher = scratch.Matcher;
        var sw = Stopwatch.StartNew();
        int registered = RegisterAll(matcher, originals, threads);
        Console.Error.WriteLine($"match: registered {registered} originals in {sw.Elapsed.TotalSeconds:0.0}s");

        var files = CliOptions.Files(queries, "--queries");
        var lines = new string[files.Length];
        int done = 0, matched = 0;
        sw.Restart();
        Parallel.For(0, files.Length, new ParallelOptions { MaxDegreeOfParallelism = threads }, i =>
        {
            string name = Path.GetFileName(files[i]);
            MatchResult? r = null;
            string? error = null;
            try
            {
                r = matcher.Match(File.ReadAllBytes(files[i]));
            }
            catch (ImageRejectedException e)
            {
                error = e.Message;
            }
            lines[i] = ResultLine(name, r, error);
            if (r is not null) Interlocked.Increment(ref matched);
            int n = Interlocked.Increment(ref done);
            if (n % 50 == 0 || n == files.Length)
                Console.Error.WriteLine($"match: {n}/{files.Length} queries, {matched} matched, {sw.Elapsed.TotalSeconds:0.0}s");
        });
        var dir = Path.GetDirectoryName(Path.GetFullPath(outFile));
        if (!string.IsNullOrEmpty(dir)) Directory.CreateDirectory(dir);
        await File.WriteAllLinesAsync(outFile, lines);
        return 0;
    }

    /// <summary>Registers every picture of a folder (id = file stem) that the matcher does not hold yet.</summary>
    internal static int RegisterAll(CopyMatcher matcher, string dir, int threads)
    {
        var files = CliOptions.Files(dir, "--originals");
        int ok = 0;
        Parallel.ForEach(files, new ParallelOptions { MaxDegreeOfParallelism = threads }, f =>
        {
            try
            {
                var id = Path.GetFileNameWithoutExtension(f);
                if (matcher.Get(id) is null)
                    matcher.Register(id, File.ReadAllBytes(f));
                Interlocked.Increment(ref ok);
            }
            catch (ImageRejectedException e)
            {
                Console.Error.WriteLine($"match: original {Path.GetFileName(f)} skipped: {e.Message}");
            }
        });
        return ok;
    }

    internal static string ResultLine(string query, MatchResult? r, string? error = null)
    {
        var o = new Dictionary<string, object?>
        {
            ["query"] = query,
            ["match"] = r?.OriginalId,
            ["score"] = r is null ? 0.0 : Math.Round(r.Score, 4),
        };
        if (r?.Transform is { } t)
            o["transform"] = new Dictionary<string, object> { ["mirror"] = t.Mirror, ["rotation"] = t.Rotation, ["scale"] = t.Scale, ["crop"] = t.Crop };
        else if (r is not null)
            o["transform"] = new Dictionary<string, object> { ["mirror"] = false, ["rotation"] = 0.0, ["scale"] = 1.0, ["crop"] = Array.Empty<int>() };
        if (error is not null)
            o["error"] = error;
        return JsonSerializer.Serialize(o);
    }
}

/// <summary>Minimal "--name value" option parsing shared by the matching verbs.</summary>
internal sealed class CliOptions
{
    private readonly string _verb;
    private readonly Dictionary<string, string> _values = new(StringComparer.Ordinal);
    private readonly HashSet<string> _flags = new(StringComparer.Ordinal);

    private CliOptions(string verb) => _verb = verb;

    /// <param name="known">Options that take a value.</param>
    /// <param name="flags">Options that stand alone.</param>
    public static CliOptions Parse(string verb, string[] args, string[] known, string[]? flags = null)
    {
        flags ??= [];
        var o = new CliOptions(verb);
        for (int i = 0; i < args.Length; i++)
        {
            if (flags.Contains(args[i]))
            {
                o._flags.Add(args[i]);
                continue;
            }
            if (!known.Contains(args[i]))
                throw new UsageException($"{verb}: unknown argument '{args[i]}' (options: {string.Join(' ', known.Concat(flags))})");
            if (i + 1 >= args.Length)
                throw new UsageException($"{verb}: {args[i]} needs a value");
            o._values[args[i]] = args[++i];
        }
        return o;
    }

    public string? Get(string name) => _values.GetValueOrDefault(name);

    public bool Has(string flag) => _flags.Contains(flag);

    public string Required(string name) => Get(name) ?? throw new UsageException($"{_verb}: {name} is required");

    public int Int(string name, int fallback)
    {
        var v = Get(name);
        if (v is null) return fallback;
        if (!int.TryParse(v, System.Globalization.CultureInfo.InvariantCulture, out int n) || n <= 0)
            throw new UsageException($"{_verb}: {name} must be a positive integer");
        return n;
    }

    public static double ParseDouble(string name, string v) =>
        double.TryParse(v, System.Globalization.CultureInfo.InvariantCulture, out double d) && d > 0 && d < 1
            ? d
            : throw new UsageException($"{name} must be a number between 0 and 1");

    public static string[] Files(string dir, string option)
    {
        if (!Directory.Exists(dir))
            throw new UsageException($"{option}: directory '{dir}' does not exist");
        return Directory.GetFiles(dir).Where(f => !Path.GetFileName(f).StartsWith('.')).Order(StringComparer.Ordinal).ToArray();
    }
}

/// <summary>
/// A matcher for the command-line verbs: fingerprints in memory (or, given a directory, kept there and
/// reused by the next run) and, unless switched off, the default embedding model with a vector index
/// in a temporary directory (removed on dispose) or beside the kept fingerprints.
/// </summary>
internal sealed class ScratchMatcher : IDisposable
{
    private readonly string? _temporaryDirectory;
    private readonly EmbeddingCandidates? _embeddings;

    public ScratchMatcher(MatcherOptions options, bool embeddings, string? keepDirectory = null)
    {
        if (embeddings)
        {
            // The node's own wiring (default model, embedded index), with the vectors kept or in a temporary folder.
            var dataDirectory = keepDirectory ?? (_temporaryDirectory = Path.Combine(Path.GetTempPath(), "leakhunter-scratch-" + Guid.NewGuid().ToString("N")));
            var configuration = new ConfigurationBuilder()
                .AddInMemoryCollection(new Dictionary<string, string?> { ["Index:Fsync"] = "false" })
                .Build();
            _embeddings = IndexServiceExtensions.CreateEmbeddingCandidates(configuration, dataDirectory);
        }
        Matcher = new CopyMatcher(options, keepDirectory is null ? null : Path.Combine(keepDirectory, "index"), _embeddings);
    }

    public CopyMatcher Matcher { get; }

    public void Dispose()
    {
        Matcher.Dispose();
        _embeddings?.Dispose();
        if (_temporaryDirectory is not null && Directory.Exists(_temporaryDirectory))
            Directory.Delete(_temporaryDirectory, recursive: true);
    }
}
