using System.Globalization;
using System.Text.Json;
using LeakHunter.Index.Watermark;

namespace LeakHunter.SiloHost.Commands;

/// <summary>
/// <c>leakhunter watermark embed --key-file K --payload N IN OUT</c> writes IN with the copy id N (unsigned 32-bit)
/// embedded, in IN's format. <c>leakhunter watermark decode --key-file K [--original ORIG] [--homography h11,...,h33] IN</c>
/// prints one JSON object <c>{"found","payload","confidence","mode"}</c>; with <c>--original</c> decoding is informed.
/// The key comes from <c>--key-file</c> or, failing that, the configuration value <c>Watermark:Key</c>
/// (environment variable <c>Watermark__Key</c>: 64 hex digits or base64); it is never printed.
/// </summary>
public static class WatermarkCommand
{
    public static Task<int> EmbedAsync(string[] args)
    {
        var (opts, pos) = Parse(args, "embed", ["--key-file", "--payload", "--quality"]);
        if (pos.Count != 2) throw new UsageException("usage: leakhunter watermark embed --key-file K --payload N IN OUT");
        if (!opts.TryGetValue("--payload", out var ps))
            throw new UsageException("watermark embed: --payload N is required");
        if (!uint.TryParse(ps, NumberStyles.None, CultureInfo.InvariantCulture, out var payload))
            throw new UsageException($"watermark embed: --payload must be an unsigned 32-bit integer, not '{ps}'");
        var quality = 92;
        if (opts.TryGetValue("--quality", out var qs) && (!int.TryParse(qs, NumberStyles.None, CultureInfo.InvariantCulture, out quality) || quality is < 1 or > 100))
            throw new UsageException($"watermark embed: --quality must be 1..100, not '{qs}'");
        var key = LoadKey(opts, "embed");
        var input = ReadInput(pos[0], "embed");
        byte[] marked;
        try
        {
            marked = WatermarkEmbedder.Embed(input, payload, key, quality);
        }
        catch (FormatException e)
        {
            Console.Error.WriteLine($"leakhunter: watermark embed: {pos[0]}: {e.Message}");
            return Task.FromResult(1);
        }
        File.WriteAllBytes(pos[1], marked);
        return Task.FromResult(0);
    }

    public static Task<int> DecodeAsync(string[] args)
    {
        var (opts, pos) = Parse(args, "decode", ["--key-file", "--original", "--homography"]);
        if (pos.Count != 1) throw new UsageException("usage: leakhunter watermark decode --key-file K [--original ORIG] IN");
        var key = LoadKey(opts, "decode");
        double[]? h = null;
        if (opts.TryGetValue("--homography", out var hs))
        {
            var parts = hs.Split(',', StringSplitOptions.TrimEntries);
            h = new double[parts.Length];
            if (parts.Length != 9 || parts.Where((p, i) => !double.TryParse(p, NumberStyles.Float, CultureInfo.InvariantCulture, out h[i])).Any())
                throw new UsageException("watermark decode: --homography takes 9 comma-separated numbers (row-major, query to original)");
            if (!opts.ContainsKey("--original"))
                throw new UsageException("watermark decode: --homography needs --original");
        }
        var input = ReadInput(pos[0], "decode");
        WatermarkReading r;
        try
        {
            r = opts.TryGetValue("--original", out var orig)
                ? WatermarkDecoder.DecodeInformed(input, ReadInput(orig, "decode"), key, h)
                : WatermarkDecoder.DecodeBlind(input, key);
        }
        catch (FormatException e)
        {
            Console.Error.WriteLine($"leakhunter: watermark decode: {e.Message}");
            return Task.FromResult(1);
        }
        Console.Out.WriteLine(JsonSerializer.Serialize(new
        {
            found = r.Found,
            payload = r.Payload,
            confidence = r.Confidence,
            mode = r.Mode,
        }));
        return Task.FromResult(0);
    }

    private static byte[] ReadInput(string path, string verb)
    {
        try
        {
            return File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UsageException($"watermark {verb}: cannot read '{path}': {e.Message}");
        }
    }

    internal static WatermarkKey LoadKey(IReadOnlyDictionary<string, string> opts, string verb)
    {
        try
        {
            if (opts.TryGetValue("--key-file", out var kf)) return WatermarkKey.FromFile(kf);
            var conf = Environment.GetEnvironmentVariable("Watermark__Key");
            if (!string.IsNullOrWhiteSpace(conf)) return WatermarkKey.Parse(conf);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
            // The message never contains key material.
            throw new UsageException($"watermark {verb}: bad key: {e.Message}");
        }
        throw new UsageException($"watermark {verb}: --key-file K is required (or configuration Watermark:Key)");
    }

    internal static (Dictionary<string, string> Opts, List<string> Positional) Parse(string[] args, string verb, string[] known)
    {
        var opts = new Dictionary<string, string>(StringComparer.Ordinal);
        var pos = new List<string>();
        for (var i = 0; i < args.Length; i++)
        {
            var a = args[i];
            if (a.StartsWith("--", StringComparison.Ordinal) && a.Length > 2)
            {
                var name = a;
                string? value = null;
                var eq = a.IndexOf('=');
                if (eq > 0) { name = a[..eq]; value = a[(eq + 1)..]; }
                if (!known.Contains(name)) throw new UsageException($"watermark {verb}: unknown option '{name}'");
                if (value is null)
                {
                    if (i + 1 >= args.Length) throw new UsageException($"watermark {verb}: {name} needs a value");
                    value = args[++i];
                }
                opts[name] = value;
            }
            else pos.Add(a);
        }
        return (opts, pos);
    }
}
