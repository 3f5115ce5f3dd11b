using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using OpenCvSharp;

namespace LeakHunter.Index.Watermark;

/// <summary>
/// The watermark benchmark: embeds a random payload into each photo, measures invisibility (PSNR, SSIM against
/// the original), then applies every attack of <see cref="WatermarkAttacks"/> and decodes blind and informed.
/// Prints one line per attack and, last, one JSON object with all figures.
/// </summary>
public static class WatermarkBench
{
    public sealed record Options(string PhotosDir, int? Limit, int Seed, int Threads, string[]? Attacks, string? UnmarkedDir, int UnmarkedVariants);

    private sealed class Acc
    {
        public double Psnr, Ssim; public int NQuality;
        public double BitsBlind, BitsInformed;
        public int OkBlind, OkInformed, WrongBlind, WrongInformed, N;
        public double MsBlind, MsInformed;
        public readonly List<string> FailedBlind = [], FailedInformed = [];
    }

    public static int Run(Options o, TextWriter output, WatermarkKey? key = null)
    {
        key ??= WatermarkKey.FromBytes(System.Security.Cryptography.SHA256.HashData("leakhunter-bench-key"u8));
        var files = Directory.EnumerateFiles(o.PhotosDir)
            .Where(f => f.EndsWith(".jpg", StringComparison.OrdinalIgnoreCase) || f.EndsWith(".jpeg", StringComparison.OrdinalIgnoreCase)
                        || f.EndsWith(".png", StringComparison.OrdinalIgnoreCase) || f.EndsWith(".webp", StringComparison.OrdinalIgnoreCase))
            .Order(StringComparer.Ordinal).ToList();
        if (o.Limit is { } lim) files = files.Take(lim).ToList();
        if (files.Count == 0) throw new ArgumentException($"no photos in {o.PhotosDir}");
        var attacks = WatermarkAttacks.All.Where(a => o.Attacks is null || o.Attacks.Contains(a.Name)).ToList();
        var acc = attacks.ToDictionary(a => a.Name, _ => new Acc());
        double psnrSum = 0, ssimSum = 0, embedMs = 0, mpix = 0;
        var unmarkedFound = 0;
        var lockObj = new object();

        Parallel.For(0, files.Count, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, o.Threads) }, i =>
        {
            var rng = new Random(o.Seed * 7919 + i);
            var payload = (uint)rng.NextInt64(0, 1L << 32);
            var origBytes = File.ReadAllBytes(files[i]);
            var sw = Stopwatch.StartNew();
            var markedBytes = WatermarkEmbedder.Embed(origBytes, payload, key);
            var ms = sw.Elapsed.TotalMilliseconds;
            using var orig = WatermarkImage.Decode(origBytes);
            using var marked = WatermarkImage.Decode(markedBytes);
            using var orig3 = To3(orig);
            using var marked3 = To3(marked);
            using var origGray = WatermarkImage.ToGray(orig3);
            var psnr = Psnr(orig3, marked3);
            var ssim = Ssim(orig3, marked3);
            using var other = WatermarkImage.Decode(File.ReadAllBytes(files[(i + 1) % files.Count]));
            using var other3 = To3(other);
            var unmarked = WatermarkDecoder.DecodeBlind(origGray, key).Reading.Found;
            lock (lockObj)
            {
                psnrSum += psnr; ssimSum += ssim; embedMs += ms; mpix += orig.Cols * (double)orig.Rows / 1e6;
                if (unmarked) unmarkedFound++;
            }
            foreach (var a in attacks)
            {
                using var attacked = a.Apply(marked3, new Random(o.Seed * 104729 + i * 31 + AttackSeed(a.Name)), other3);
                using var ag = WatermarkImage.ToGray(attacked);
                double? ap = null, asim = null;
                if (attacked.Size() == marked3.Size()) { ap = Psnr(marked3, attacked); asim = Ssim(marked3, attacked); }
                var t0 = Stopwatch.StartNew();
                var blind = WatermarkDecoder.DecodeBlind(ag, key);
                var tb = t0.Elapsed.TotalMilliseconds; t0.Restart();
                var inf = WatermarkDecoder.DecodeInformed(ag, origGray, key, null);
                var ti = t0.Elapsed.TotalMilliseconds;
                lock (lockObj)
                {
                    var s = acc[a.Name];
                    s.N++;
                    if (ap is { } pv) { s.Psnr += Math.Min(pv, 100); s.Ssim += asim!.Value; s.NQuality++; }
                    s.BitsBlind += BitAcc(blind.RawPayload, payload);
                    s.BitsInformed += BitAcc(inf.RawPayload, payload);
                    if (blind.Reading.Found) { if (blind.Reading.Payload == payload) s.OkBlind++; else s.WrongBlind++; }
                    if (inf.Reading.Found) { if (inf.Reading.Payload == payload) s.OkInformed++; else s.WrongInformed++; }
                    var name = Path.GetFileName(files[i]);
                    if (blind.Reading.Payload != payload) s.FailedBlind.Add(name);
                    if (inf.Reading.Payload != payload) s.FailedInformed.Add(name);
                    s.MsBlind += tb; s.MsInformed += ti;
                }
            }
        });

        var n = files.Count;
        var inv = CultureInfo.InvariantCulture;
        var big = TimeTwelveMegapixels(files[0], key);
        output.WriteLine(string.Create(inv, $"images {n}  embed: PSNR {psnrSum / n:F2} dB  SSIM {ssimSum / n:F4}  {embedMs / mpix:F0} ms/MP  unmarked found {unmarkedFound}"));
        output.WriteLine(string.Create(inv, $"12 MP (first photo at 4000x3000, one thread): mark {big.MarkMs:F0} ms, embed with JPEG decode and encode {big.EmbedMs:F0} ms, blind decode {big.DecodeMs:F0} ms, decoded {big.Decoded}"));
        output.WriteLine($"{"attack",-12} {"PSNR",6} {"SSIM",6}  {"bits-bl",7} {"ok-bl",6} {"bits-inf",8} {"ok-inf",6}  {"wrong",5}  {"ms-bl",5} {"ms-inf",6}");
        var json = new JsonObject
        {
            ["images"] = n,
            ["key"] = key.Fingerprint,
            ["embed"] = new JsonObject
            {
                ["psnr"] = Math.Round(psnrSum / n, 3),
                ["ssim"] = Math.Round(ssimSum / n, 5),
                ["ms_per_megapixel"] = Math.Round(embedMs / mpix, 1),
            },
            ["unmarked_found"] = unmarkedFound,
            ["twelve_megapixels"] = new JsonObject
            {
                ["mark_ms"] = Math.Round(big.MarkMs, 1),
                ["embed_ms"] = Math.Round(big.EmbedMs, 1),
                ["blind_decode_ms"] = Math.Round(big.DecodeMs, 1),
                ["decoded"] = big.Decoded,
            },
        };
        var jat = new JsonObject();
        foreach (var a in attacks)
        {
            var s = acc[a.Name];
            double? ap = s.NQuality > 0 ? s.Psnr / s.NQuality : null;
            double? asim = s.NQuality > 0 ? s.Ssim / s.NQuality : null;
            output.WriteLine(string.Create(inv,
                $"{a.Name,-12} {(ap is { } p1 ? p1.ToString("F1", inv) : "-"),6} {(asim is { } s1 ? s1.ToString("F3", inv) : "-"),6}  {s.BitsBlind / s.N,7:F4} {100.0 * s.OkBlind / s.N,5:F1}% {s.BitsInformed / s.N,8:F4} {100.0 * s.OkInformed / s.N,5:F1}%  {s.WrongBlind + s.WrongInformed,5}  {s.MsBlind / s.N,5:F0} {s.MsInformed / s.N,6:F0}"));
            jat[a.Name] = new JsonObject
            {
                ["psnr"] = ap is { } p2 ? Math.Round(p2, 2) : null,
                ["ssim"] = asim is { } s2 ? Math.Round(s2, 4) : null,
                ["blind"] = new JsonObject
                {
                    ["bit_accuracy"] = Math.Round(s.BitsBlind / s.N, 4),
                    ["success"] = Math.Round((double)s.OkBlind / s.N, 4),
                    ["wrong"] = s.WrongBlind,
                    ["ms"] = Math.Round(s.MsBlind / s.N, 1),
                    ["failed"] = new JsonArray(s.FailedBlind.Order(StringComparer.Ordinal).Select(f => (JsonNode?)f).ToArray()),
                },
                ["informed"] = new JsonObject
                {
                    ["bit_accuracy"] = Math.Round(s.BitsInformed / s.N, 4),
                    ["success"] = Math.Round((double)s.OkInformed / s.N, 4),
                    ["wrong"] = s.WrongInformed,
                    ["ms"] = Math.Round(s.MsInformed / s.N, 1),
                    ["failed"] = new JsonArray(s.FailedInformed.Order(StringComparer.Ordinal).Select(f => (JsonNode?)f).ToArray()),
                },
            };
        }
        json["attacks"] = jat;
        // Which photos failed where (to find weak pictures): one line per attack and mode with failures.
        foreach (var a in attacks)
        {
            var s = acc[a.Name];
            if (s.FailedInformed.Count > 0)
                output.WriteLine($"failed {a.Name} informed: {string.Join(" ", s.FailedInformed.Order(StringComparer.Ordinal))}");
            if (s.FailedBlind.Count > 0)
                output.WriteLine($"failed {a.Name} blind: {string.Join(" ", s.FailedBlind.Order(StringComparer.Ordinal))}");
        }
        if (o.UnmarkedDir is { } ud)
            json["unmarked"] = UnmarkedCampaign(ud, o, key, output);
        output.WriteLine(json.ToJsonString(new JsonSerializerOptions { WriteIndented = false }));
        return 0;
    }

    /// <summary>Blind decodes of unmarked pictures and random crops/rescales of them: any found is a false positive.</summary>
    private static JsonObject UnmarkedCampaign(string dir, Options o, WatermarkKey key, TextWriter output)
    {
        var files = Directory.EnumerateFiles(dir).Where(f => f.EndsWith(".jpg", StringComparison.OrdinalIgnoreCase) || f.EndsWith(".png", StringComparison.OrdinalIgnoreCase))
            .Order(StringComparer.Ordinal).ToList();
        long decodes = 0, found = 0;
        var lockObj = new object();
        Parallel.For(0, files.Count, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, o.Threads) }, i =>
        {
            var r = new Random(o.Seed * 31 + i);
            using var img = WatermarkImage.Decode(File.ReadAllBytes(files[i]));
            using var g = WatermarkImage.ToGray(img);
            long d = 0, f = 0;
            for (var v = 0; v <= o.UnmarkedVariants; v++)
            {
                using var x = v == 0 ? g.Clone() : Variant(g, r);
                d++;
                if (WatermarkDecoder.DecodeBlind(x, key).Reading.Found) f++;
            }
            lock (lockObj) { decodes += d; found += f; }
        });
        output.WriteLine($"unmarked: {decodes} blind decodes of {files.Count} pictures and variants, {found} found");
        return new JsonObject { ["decodes"] = decodes, ["found"] = found };
    }

    private static Mat Variant(Mat g, Random r)
    {
        var area = 0.25 + 0.75 * r.NextDouble();
        var s = Math.Sqrt(area);
        int w = Math.Max(32, (int)(g.Cols * s)), h = Math.Max(32, (int)(g.Rows * s));
        int x = r.Next(0, g.Cols - w + 1), y = r.Next(0, g.Rows - h + 1);
        using var c = new Mat(g, new Rect(x, y, w, h));
        var f = 0.4 + 0.8 * r.NextDouble();
        var o = new Mat();
        Cv2.Resize(c, o, new Size(Math.Max(16, (int)(w * f)), Math.Max(16, (int)(h * f))), 0, 0, InterpolationFlags.Area);
        return o;
    }

    /// <summary>
    /// A per-attack seed that is the same in every process (string.GetHashCode is randomised per process, which
    /// made crops, stickers and screenshots land elsewhere on every run): FNV-1a of the name, mod 1000.
    /// </summary>
    internal static int AttackSeed(string name)
    {
        var h = 2166136261u;
        foreach (var ch in name) { h ^= ch; h *= 16777619u; }
        return (int)(h % 1000);
    }

    private static double BitAcc(uint a, uint b) => (32 - System.Numerics.BitOperations.PopCount(a ^ b)) / 32.0;

    private static Mat To3(Mat m)
    {
        var o = new Mat();
        switch (m.Channels())
        {
            case 1: Cv2.CvtColor(m, o, ColorConversionCodes.GRAY2BGR); break;
            case 4: Cv2.CvtColor(m, o, ColorConversionCodes.BGRA2BGR); break;
            default: m.CopyTo(o); break;
        }
        return o;
    }

    public static double Psnr(Mat a, Mat b)
    {
        var mse = 0.0;
        using var d = new Mat();
        Cv2.Absdiff(a, b, d);
        using var f = new Mat();
        d.ConvertTo(f, MatType.CV_32F);
        using var sq = f.Mul(f);
        var m = Cv2.Mean(sq);
        var ch = a.Channels();
        for (var i = 0; i < ch; i++) mse += m[i];
        mse /= ch;
        return mse <= 1e-10 ? 100 : 10 * Math.Log10(255.0 * 255.0 / mse);
    }

    /// <summary>Mean SSIM over the colour channels (Gaussian window 11, sigma 1.5).</summary>
    public static double Ssim(Mat a, Mat b)
    {
        const double c1 = 6.5025, c2 = 58.5225;
        using var x = new Mat();
        using var y = new Mat();
        a.ConvertTo(x, MatType.CV_32FC(a.Channels()));
        b.ConvertTo(y, MatType.CV_32FC(b.Channels()));
        var ks = new Size(11, 11);
        using var mx = new Mat(); using var my = new Mat();
        Cv2.GaussianBlur(x, mx, ks, 1.5); Cv2.GaussianBlur(y, my, ks, 1.5);
        using var mx2 = mx.Mul(mx); using var my2 = my.Mul(my); using var mxy = mx.Mul(my);
        using var xx = x.Mul(x); using var yy = y.Mul(y); using var xy = x.Mul(y);
        using var sx = new Mat(); using var sy = new Mat(); using var sxy = new Mat();
        Cv2.GaussianBlur(xx, sx, ks, 1.5); Cv2.Subtract(sx, mx2, sx);
        Cv2.GaussianBlur(yy, sy, ks, 1.5); Cv2.Subtract(sy, my2, sy);
        Cv2.GaussianBlur(xy, sxy, ks, 1.5); Cv2.Subtract(sxy, mxy, sxy);
        using var t1 = new Mat(); using var t2 = new Mat(); using var t3 = new Mat(); using var t4 = new Mat();
        Cv2.AddWeighted(mxy, 2, mxy, 0, c1, t1);
        Cv2.AddWeighted(sxy, 2, sxy, 0, c2, t2);
        using var num = t1.Mul(t2);
        Cv2.Add(mx2, my2, t3); Cv2.Add(t3, Scalar.All(c1), t3);
        Cv2.Add(sx, sy, t4); Cv2.Add(t4, Scalar.All(c2), t4);
        using var den = t3.Mul(t4);
        using var map = new Mat();
        Cv2.Divide(num, den, map);
        var m = Cv2.Mean(map);
        var ch = a.Channels();
        double s = 0;
        for (var i = 0; i < ch; i++) s += m[i];
        return s / ch;
    }

    /// <summary>
    /// Timings the issue sets for a 12-megapixel photo, on the calling thread (median of three after a
    /// warm-up): marking the decoded picture, the whole embed from JPEG bytes to JPEG bytes, and a blind decode.
    /// </summary>
    private static (double MarkMs, double EmbedMs, double DecodeMs, bool Decoded) TimeTwelveMegapixels(string photo, WatermarkKey key)
    {
        using var source = Cv2.ImRead(photo, ImreadModes.Color);
        using var big = new Mat();
        Cv2.Resize(source, big, new Size(4000, 3000), 0, 0, InterpolationFlags.Cubic);
        Cv2.ImEncode(".jpg", big, out var jpeg, new ImageEncodingParam(ImwriteFlags.JpegQuality, 92));
        var mark = new List<double>();
        var embed = new List<double>();
        var decode = new List<double>();
        var decoded = true;
        for (var round = 0; round < 4; round++)
        {
            using var copy = big.Clone();
            var sw = Stopwatch.StartNew();
            WatermarkEmbedder.EmbedInPlace(copy, 77u + (uint)round, key);
            var markMs = sw.Elapsed.TotalMilliseconds;
            sw.Restart();
            var marked = WatermarkEmbedder.Embed(jpeg, 77u + (uint)round, key);
            var embedMs = sw.Elapsed.TotalMilliseconds;
            sw.Restart();
            var reading = WatermarkDecoder.DecodeBlind(marked, key);
            var decodeMs = sw.Elapsed.TotalMilliseconds;
            decoded &= reading.Found && reading.Payload == 77u + (uint)round;
            if (round == 0) continue; // warm-up
            mark.Add(markMs);
            embed.Add(embedMs);
            decode.Add(decodeMs);
        }
        static double Median(List<double> v) => v.Order().ElementAt(v.Count / 2);
        return (Median(mark), Median(embed), Median(decode), decoded);
    }
}
