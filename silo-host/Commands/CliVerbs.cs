namespace LeakHunter.SiloHost.Commands;

/// <summary>
/// The command-line verbs of the <c>leakhunter</c> executable. Each verb is a static class with
/// <c>Task&lt;int&gt; RunAsync(string[] args)</c> (args without the verb itself) returning the exit code.
/// Without a verb, or with <c>silo</c>, the executable runs a node (see <see cref="NodeCommand"/>).
/// </summary>
public static class CliVerbs
{
    /// <summary>Verb name (as typed, possibly two words like "bench match") to its entry point.</summary>
    public static readonly IReadOnlyDictionary<string, Func<string[], Task<int>>> All =
        new Dictionary<string, Func<string[], Task<int>>>(StringComparer.Ordinal)
        {
            ["silo"] = NodeCommand.RunSiloAsync,
            ["dashboard"] = NodeCommand.RunDashboardAsync,
            ["bench index"] = BenchIndexCommand.RunAsync,
            ["index migrate"] = IndexMigrateCommand.RunAsync,
            ["bench embedding"] = BenchEmbeddingCommand.RunAsync,
            ["watermark embed"] = WatermarkCommand.EmbedAsync,
            ["watermark decode"] = WatermarkCommand.DecodeAsync,
            ["bench watermark"] = BenchWatermarkCommand.RunAsync,
            ["hash"] = HashCommand.RunAsync,
            ["match"] = MatchCommand.RunAsync,
            ["bench match"] = BenchMatchCommand.RunAsync,
            ["bench queries"] = BenchQueriesCommand.RunAsync,
            ["bench crawl"] = BenchCrawlCommand.RunAsync,
        };

    /// <summary>Finds the longest verb (two words, then one) at the start of args.</summary>
    public static (Func<string[], Task<int>> Run, string[] VerbArgs)? Find(string[] args)
    {
        if (args.Length >= 2 && All.TryGetValue(args[0] + " " + args[1], out var two))
            return (two, args[2..]);
        if (args.Length >= 1 && All.TryGetValue(args[0], out var one))
            return (one, args[1..]);
        return null;
    }
}

/// <summary>A wrong option or argument: printed as one line on stderr, exit code 2.</summary>
public sealed class UsageException(string message) : Exception(message);
