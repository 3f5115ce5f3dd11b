using LeakHunter.Index.Vectors;

namespace LeakHunter.SiloHost.Commands;

/// <summary>
/// <c>leakhunter index migrate --to qdrant --data DIR --qdrant-url URL [--collection NAME] [--batch N] [--api-key KEY]</c>:
/// copies the embedded vector index of a data directory (DIR/vectors, or DIR itself) into a Qdrant collection.
/// </summary>
public static class IndexMigrateCommand
{
    public static async Task<int> RunAsync(string[] args)
    {
        var o = CommandArgs.Parse(args, ["to", "data", "qdrant-url", "collection", "batch", "api-key"]);
        var to = o.GetValueOrDefault("to") ?? throw new UsageException("index migrate: --to qdrant is required");
        if (to != "qdrant") throw new UsageException($"index migrate: --to must be qdrant, not '{to}'");
        var data = o.GetValueOrDefault("data") ?? throw new UsageException("index migrate: --data DIR is required");
        var url = o.GetValueOrDefault("qdrant-url") ?? throw new UsageException("index migrate: --qdrant-url URL is required");
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            throw new UsageException($"index migrate: --qdrant-url '{url}' is not an http(s) URL");
        var batch = CommandArgs.Int(o, "batch", 256, 1, 10_000);
        var dir = Directory.Exists(Path.Combine(data, "vectors")) ? Path.Combine(data, "vectors") : data;
        int? dim;
        try { dim = EmbeddedVectorIndex.ReadDimension(dir); }
        catch (InvalidDataException e) { throw new UsageException($"index migrate: {e.Message}"); }
        if (dim is not { } dimension) throw new UsageException($"index migrate: no embedded index in {data}");
        var options = new VectorIndexOptions
        {
            Kind = "qdrant", Dimension = dimension, QdrantUrl = url, BatchSize = batch,
            Collection = o.GetValueOrDefault("collection") ?? "leakhunter", QdrantApiKey = o.GetValueOrDefault("api-key"),
        };
        using var source = EmbeddedVectorIndex.Open(dir, new VectorIndexOptions { Dimension = dimension, ExactThreshold = int.MaxValue });
        using var target = await QdrantVectorIndex.CreateAsync(options);
        var total = await source.CountAsync();
        var copied = await VectorIndexMigration.CopyAsync(source, target, batch, n =>
        {
            if (n % (batch * 40) == 0 || n == total) Console.Error.WriteLine($"copied {n}/{total}");
        });
        var count = await target.CountAsync();
        Console.WriteLine($"copied {copied} entries from {dir} to {url} collection '{options.Collection}' (it now holds {count})");
        return 0;
    }
}

/// <summary>--name value options of the index verbs.</summary>
internal static class CommandArgs
{
    public static Dictionary<string, string> Parse(string[] args, string[] known)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < args.Length; i++)
        {
            var a = args[i];
            if (!a.StartsWith("--", StringComparison.Ordinal)) throw new UsageException($"unexpected argument '{a}'");
            var name = a[2..];
            string value;
            var eq = name.IndexOf('=');
            if (eq >= 0) { value = name[(eq + 1)..]; name = name[..eq]; }
            else if (i + 1 < args.Length) value = args[++i];
            else throw new UsageException($"--{name} needs a value");
            if (!known.Contains(name)) throw new UsageException($"unknown option --{name} (options: {string.Join(", ", known.Select(k => "--" + k))})");
            result[name] = result.TryGetValue(name, out var prev) ? prev + "," + value : value;
        }
        return result;
    }

    public static int Int(Dictionary<string, string> o, string name, int fallback, int min, int max)
    {
        if (!o.TryGetValue(name, out var s)) return fallback;
        if (!int.TryParse(s.Replace("_", ""), out var v) || v < min || v > max)
            throw new UsageException($"--{name} must be an integer from {min} to {max}, not '{s}'");
        return v;
    }
}
