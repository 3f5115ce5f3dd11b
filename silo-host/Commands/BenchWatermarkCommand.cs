using System.Globalization;
using LeakHunter.Index.Watermark;

namespace LeakHunter.SiloHost.Commands;

/// <summary>
/// <c>leakhunter bench watermark --photos DIR [--limit N] [--seed S] [--threads T] [--attacks a,b] [--key-file K]
/// [--unmarked DIR [--variants N]]</c>: embeds random payloads into each photo, attacks the copies and decodes them
/// blind and informed; one line per attack, then one JSON object with all figures (see <see cref="WatermarkBench"/>).
/// </summary>
public static class BenchWatermarkCommand
{
    public static Task<int> RunAsync(string[] args)
    {
        var (opts, pos) = WatermarkCommand.Parse(args, "bench",
            ["--photos", "--limit", "--seed", "--threads", "--attacks", "--key-file", "--unmarked", "--variants"]);
        if (pos.Count > 0) throw new UsageException($"bench watermark: unexpected argument '{pos[0]}'");
        if (!opts.TryGetValue("--photos", out var dir))
            throw new UsageException("usage: leakhunter bench watermark --photos DIR [--limit N]");
        if (!Directory.Exists(dir)) throw new UsageException($"bench watermark: no directory '{dir}'");
        int? limit = opts.TryGetValue("--limit", out var ls) ? PositiveInt(ls, "--limit") : null;
        var seed = opts.TryGetValue("--seed", out var ss) ? PositiveInt(ss, "--seed") : 1;
        var threads = opts.TryGetValue("--threads", out var ts) ? PositiveInt(ts, "--threads") : Math.Min(2, Environment.ProcessorCount);
        var variants = opts.TryGetValue("--variants", out var vs) ? PositiveInt(vs, "--variants") : 19;
        string[]? attacks = null;
        if (opts.TryGetValue("--attacks", out var at))
        {
            attacks = at.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            var unknown = attacks.Where(a => WatermarkAttacks.Names.All(n => n != a)).ToList();
            if (unknown.Count > 0)
                throw new UsageException($"bench watermark: unknown attack '{unknown[0]}'; attacks: {string.Join(",", WatermarkAttacks.Names)}");
        }
        var unmarked = opts.GetValueOrDefault("--unmarked");
        if (unmarked is not null && !Directory.Exists(unmarked)) throw new UsageException($"bench watermark: no directory '{unmarked}'");
        WatermarkKey? key = opts.ContainsKey("--key-file") ? WatermarkCommand.LoadKey(opts, "bench") : null;
        var rc = WatermarkBench.Run(new WatermarkBench.Options(dir, limit, seed, threads, attacks, unmarked, variants), Console.Out, key);
        return Task.FromResult(rc);
    }

    private static int PositiveInt(string s, string name)
    {
        if (!int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out var v) || v < 1)
            throw new UsageException($"bench watermark: {name} must be a positive integer, not '{s}'");
        return v;
    }
}
