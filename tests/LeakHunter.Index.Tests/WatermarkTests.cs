using LeakHunter.Index.Watermark;
using OpenCvSharp;

namespace LeakHunter.Index.Tests;

public class WatermarkTests
{
    private static readonly WatermarkKey Key = WatermarkKey.FromBytes(Enumerable.Range(1, 32).Select(i => (byte)(i * 7)).ToArray());
    private static readonly WatermarkKey OtherKey = WatermarkKey.FromBytes(Enumerable.Range(1, 32).Select(i => (byte)(i * 11)).ToArray());

    /// <summary>A deterministic photo-like picture: smooth colour fields, shapes and fine texture.</summary>
    internal static Mat SyntheticPhoto(int seed, int width = 800, int height = 560)
    {
        var rng = new Random(seed);
        var img = new Mat(height, width, MatType.CV_8UC3);
        using (var small = new Mat(7, 10, MatType.CV_8UC3))
        {
            for (var y = 0; y < 7; y++)
            for (var x = 0; x < 10; x++)
                small.Set(y, x, new Vec3b((byte)rng.Next(30, 225), (byte)rng.Next(30, 225), (byte)rng.Next(30, 225)));
            Cv2.Resize(small, img, img.Size(), 0, 0, InterpolationFlags.Cubic);
        }
        for (var i = 0; i < 25; i++)
        {
            var c = new Scalar(rng.Next(256), rng.Next(256), rng.Next(256));
            if (i % 2 == 0)
                Cv2.Circle(img, new Point(rng.Next(width), rng.Next(height)), rng.Next(10, 90), c, -1, LineTypes.AntiAlias);
            else
                Cv2.Rectangle(img, new Rect(rng.Next(width - 40), rng.Next(height - 40), rng.Next(20, 160), rng.Next(20, 120)), c, -1);
        }
        using var noise = new Mat(img.Size(), MatType.CV_32FC3);
        Cv2.Randn(noise, Scalar.All(0), Scalar.All(12));
        Cv2.GaussianBlur(noise, noise, new Size(0, 0), 1.0);
        using var f = new Mat();
        img.ConvertTo(f, MatType.CV_32FC3);
        Cv2.Add(f, noise, f);
        f.ConvertTo(img, MatType.CV_8UC3);
        return img;
    }

    private static byte[] Jpeg(Mat m, int q = 95)
    {
        Cv2.ImEncode(".jpg", m, out var b, new ImageEncodingParam(ImwriteFlags.JpegQuality, q));
        return b;
    }

    private static byte[] Png(Mat m)
    {
        Cv2.ImEncode(".png", m, out var b);
        return b;
    }

    private static Mat Decode(byte[] b) => Cv2.ImDecode(b, ImreadModes.Color);

    [Fact]
    public void A_big_photo_is_marked_invisibly_and_survives_halving_and_jpeg()
    {
        // above 1.2 megapixels the mark is shaped at about a megapixel and upsampled (the fast path)
        using var small = SyntheticPhoto(21);
        using var img = new Mat();
        Cv2.Resize(small, img, new Size(2400, 1680), 0, 0, InterpolationFlags.Cubic);
        const uint payload = 0x5EED1234;
        var marked = WatermarkEmbedder.Embed(Png(img), payload, Key);
        using var markedMat = Decode(marked);
        Assert.True(Cv2.PSNR(img, markedMat) >= 42, $"PSNR {Cv2.PSNR(img, markedMat):0.00}");
        using var halved = new Mat();
        Cv2.Resize(markedMat, halved, new Size(1200, 840), 0, 0, InterpolationFlags.Area);
        var reading = WatermarkDecoder.DecodeBlind(Jpeg(halved, 75), Key);
        Assert.True(reading.Found);
        Assert.Equal(payload, reading.Payload);
    }

    [Fact]
    public void Round_trip_blind_and_informed()
    {
        using var img = SyntheticPhoto(1);
        var original = Jpeg(img);
        const uint payload = 0xC0FFEE42;
        var marked = WatermarkEmbedder.Embed(original, payload, Key);
        var blind = WatermarkDecoder.DecodeBlind(marked, Key);
        Assert.True(blind.Found);
        Assert.Equal(payload, blind.Payload);
        Assert.Equal("blind", blind.Mode);
        Assert.InRange(blind.Confidence, 0.5, 1.0);
        var informed = WatermarkDecoder.DecodeInformed(marked, original, Key, null);
        Assert.True(informed.Found);
        Assert.Equal(payload, informed.Payload);
        Assert.Equal("informed", informed.Mode);
    }

    [Fact]
    public void Payload_extremes_round_trip()
    {
        using var img = SyntheticPhoto(2, 600, 600);
        var original = Png(img);
        foreach (var payload in new uint[] { 0, uint.MaxValue })
        {
            var r = WatermarkDecoder.DecodeBlind(WatermarkEmbedder.Embed(original, payload, Key), Key);
            Assert.True(r.Found);
            Assert.Equal(payload, r.Payload);
        }
    }

    [Fact]
    public void Mark_is_invisible_enough()
    {
        using var img = SyntheticPhoto(3);
        var original = Png(img);
        using var marked = Decode(WatermarkEmbedder.Embed(original, 12345, Key));
        Assert.True(WatermarkBench.Psnr(img, marked) >= 42, "PSNR");
        Assert.True(WatermarkBench.Ssim(img, marked) >= 0.98, "SSIM");
    }

    [Fact]
    public void Wrong_key_reads_nothing()
    {
        using var img = SyntheticPhoto(4);
        var original = Jpeg(img);
        var marked = WatermarkEmbedder.Embed(original, 777, Key);
        var blind = WatermarkDecoder.DecodeBlind(marked, OtherKey);
        Assert.False(blind.Found);
        Assert.Null(blind.Payload);
        Assert.False(WatermarkDecoder.DecodeInformed(marked, original, OtherKey, null).Found);
    }

    [Fact]
    public void Unmarked_pictures_read_nothing()
    {
        for (var seed = 10; seed < 16; seed++)
        {
            using var img = SyntheticPhoto(seed, 500 + seed * 20, 400);
            var bytes = Jpeg(img, 85);
            Assert.False(WatermarkDecoder.DecodeBlind(bytes, Key).Found);
            using var crop = new Mat(img, new Rect(30, 20, 300, 250));
            Assert.False(WatermarkDecoder.DecodeBlind(Jpeg(crop), Key).Found);
        }
        var train = "/work/shared/train/images";
        if (Directory.Exists(train))
            foreach (var f in Directory.GetFiles(train, "*.jpg").Order(StringComparer.Ordinal).Take(12))
                Assert.False(WatermarkDecoder.DecodeBlind(File.ReadAllBytes(f), Key).Found, f);
    }

    [Fact]
    public void Informed_survives_jpeg75_and_half_crop()
    {
        using var img = SyntheticPhoto(5);
        var original = Jpeg(img);
        const uint payload = 0x0BADF00D;
        using var marked = Decode(WatermarkEmbedder.Embed(original, payload, Key));
        using var crop = WatermarkAttacks.Crop(marked, 0.5, new Random(3));
        var r = WatermarkDecoder.DecodeInformed(Jpeg(crop, 75), original, Key, null);
        Assert.True(r.Found);
        Assert.Equal(payload, r.Payload);
    }

    [Fact]
    public void Blind_survives_half_resize_and_jpeg75()
    {
        using var img = SyntheticPhoto(6);
        var original = Jpeg(img);
        const uint payload = 31337;
        using var marked = Decode(WatermarkEmbedder.Embed(original, payload, Key));
        using var small = WatermarkAttacks.Resize(marked, 0.5);
        var r = WatermarkDecoder.DecodeBlind(Jpeg(small, 90), Key);
        Assert.True(r.Found);
        Assert.Equal(payload, r.Payload);
        var j = WatermarkDecoder.DecodeBlind(Jpeg(marked, 75), Key);
        Assert.Equal(payload, j.Payload);
    }

    [Fact]
    public void Blind_survives_crop_and_mirror()
    {
        using var img = SyntheticPhoto(7);
        var original = Jpeg(img);
        const uint payload = 4242;
        using var marked = Decode(WatermarkEmbedder.Embed(original, payload, Key));
        using var crop = WatermarkAttacks.Crop(marked, 0.6, new Random(5));
        Assert.Equal(payload, WatermarkDecoder.DecodeBlind(Jpeg(crop, 90), Key).Payload);
        using var flipped = new Mat();
        Cv2.Flip(marked, flipped, FlipMode.Y);
        Assert.Equal(payload, WatermarkDecoder.DecodeBlind(Jpeg(flipped, 90), Key).Payload);
    }

    /// <summary>Vertical stripes under a slow horizontal shading: almost no distinct corners, and periodic.</summary>
    internal static Mat StripesPhoto(int seed, int width = 800, int height = 800)
    {
        var rng = new Random(seed);
        var period = 18 + rng.Next(10);
        var img = new Mat(height, width, MatType.CV_8UC3);
        var row = new Vec3b[width];
        for (var x = 0; x < width; x++)
        {
            var shade = 0.75 + 0.25 * Math.Sin(x * 2 * Math.PI / width * 1.5);
            var stripe = 0.5 + 0.5 * Math.Sin(x * 2 * Math.PI / period);
            var v = shade * (70 + 130 * stripe);
            row[x] = new Vec3b((byte)(v * 0.55), (byte)(v * 0.8), (byte)Math.Min(255, v * 1.05));
        }
        for (var y = 0; y < height; y++)
        for (var x = 0; x < width; x++)
            img.Set(y, x, row[x]);
        using var noise = new Mat(img.Size(), MatType.CV_32FC3);
        Cv2.Randn(noise, Scalar.All(0), Scalar.All(2));
        using var f = new Mat();
        img.ConvertTo(f, MatType.CV_32FC3);
        Cv2.Add(f, noise, f);
        f.ConvertTo(img, MatType.CV_8UC3);
        return img;
    }

    /// <summary>A smooth colour field (a few soft blobs, no edges): next to nothing for corner detectors.</summary>
    internal static Mat SmoothPhoto(int seed, int width = 800, int height = 500)
    {
        var rng = new Random(seed);
        var img = new Mat(height, width, MatType.CV_8UC3);
        using (var small = new Mat(3, 4, MatType.CV_8UC3))
        {
            for (var y = 0; y < 3; y++)
            for (var x = 0; x < 4; x++)
                small.Set(y, x, new Vec3b((byte)rng.Next(20, 200), (byte)rng.Next(20, 200), (byte)rng.Next(20, 200)));
            Cv2.Resize(small, img, img.Size(), 0, 0, InterpolationFlags.Cubic);
        }
        Cv2.GaussianBlur(img, img, new Size(0, 0), 25);
        return img;
    }

    public static TheoryData<string, int, string> LowTextureCases => new()
    {
        { "stripes", 21, "rotate2" }, { "stripes", 22, "rotate5" }, { "stripes", 23, "screenshot" },
        { "smooth", 24, "rotate2" }, { "smooth", 25, "rotate5" }, { "smooth", 26, "screenshot" },
        { "stripes", 27, "combo" }, { "smooth", 28, "combo" },
    };

    /// <summary>
    /// Informed decoding must register pictures that feature matching cannot (stripes, smooth fields): the copy
    /// turned about its middle, shown inside a screenshot, or cropped, shrunk, recoloured and re-encoded.
    /// </summary>
    [Theory]
    [MemberData(nameof(LowTextureCases))]
    public void Informed_registers_low_texture_pictures(string kind, int seed, string attack)
    {
        using var img = kind == "stripes" ? StripesPhoto(seed) : SmoothPhoto(seed);
        var original = Jpeg(img, 95);
        var payload = (uint)new Random(seed).NextInt64(0, 1L << 32);
        using var marked = Decode(WatermarkEmbedder.Embed(original, payload, Key));
        using var attacked = attack switch
        {
            "rotate2" => WatermarkAttacks.Rotate(marked, 2),
            "rotate5" => WatermarkAttacks.Rotate(marked, -5),
            "screenshot" => WatermarkAttacks.Screenshot(marked, new Random(seed)),
            _ => WatermarkAttacks.Combo(marked, new Random(seed)),
        };
        var r = WatermarkDecoder.DecodeInformed(Jpeg(attacked, 90), original, Key, null);
        Assert.True(r.Found, $"{kind} {attack}: not found");
        Assert.Equal(payload, r.Payload);
        Assert.Equal("informed", r.Mode);
    }

    [Fact]
    public void Format_is_kept()
    {
        using var img = SyntheticPhoto(8, 400, 300);
        var jpg = WatermarkEmbedder.Embed(Jpeg(img), 1, Key);
        Assert.True(jpg[0] == 0xFF && jpg[1] == 0xD8);
        var png = WatermarkEmbedder.Embed(Png(img), 1, Key);
        Assert.True(png[0] == 0x89 && png[1] == (byte)'P' && png[2] == (byte)'N' && png[3] == (byte)'G');
        // PNG with alpha keeps its alpha channel untouched.
        using var bgra = new Mat();
        Cv2.CvtColor(img, bgra, ColorConversionCodes.BGR2BGRA);
        using var alpha = new Mat(img.Size(), MatType.CV_8UC1, Scalar.All(200));
        Cv2.InsertChannel(alpha, bgra, 3);
        var marked = WatermarkEmbedder.Embed(Png(bgra), 9, Key);
        using var back = Cv2.ImDecode(marked, ImreadModes.Unchanged);
        Assert.Equal(4, back.Channels());
        using var a2 = new Mat();
        Cv2.ExtractChannel(back, a2, 3);
        Assert.Equal(0, Cv2.CountNonZero(a2 - alpha));
        Assert.Equal(9u, WatermarkDecoder.DecodeBlind(marked, Key).Payload);
    }

    [Fact]
    public void Keys_load_from_raw_hex_and_base64_files_and_never_print()
    {
        var bytes = Enumerable.Range(0, 32).Select(i => (byte)(255 - i)).ToArray();
        var dir = Directory.CreateTempSubdirectory("wmkey");
        try
        {
            File.WriteAllBytes(Path.Combine(dir.FullName, "raw"), bytes);
            File.WriteAllText(Path.Combine(dir.FullName, "hex"), Convert.ToHexString(bytes) + "\n");
            File.WriteAllText(Path.Combine(dir.FullName, "b64"), Convert.ToBase64String(bytes));
            File.WriteAllText(Path.Combine(dir.FullName, "bad"), "too short");
            var fps = new[] { "raw", "hex", "b64" }.Select(n => WatermarkKey.FromFile(Path.Combine(dir.FullName, n)).Fingerprint).Distinct().ToList();
            Assert.Single(fps);
            Assert.Throws<FormatException>(() => WatermarkKey.FromFile(Path.Combine(dir.FullName, "bad")));
            var k = WatermarkKey.FromBytes(bytes);
            Assert.DoesNotContain(Convert.ToHexString(bytes)[..8], k.ToString(), StringComparison.OrdinalIgnoreCase);
        }
        finally
        {
            dir.Delete(true);
        }
    }
}
