using OpenCvSharp;

namespace LeakHunter.Index.Watermark;

/// <summary>
/// Embeds the keyed, invisible mark. The picture's luminance gets a spread-spectrum pattern laid out on the
/// mark frame (the picture scaled to a short side of 256) as a repeating 64x64 tile (see
/// <see cref="WatermarkLayout"/>), upsampled to the picture and scaled pixel by pixel by a perceptual mask
/// (strong in texture, weak in flat areas and near black or white). The same amount is added to every colour
/// channel so that colour and greyscale conversions keep it.
/// </summary>
public static class WatermarkEmbedder
{
    /// <summary>Root-mean-square change of each channel, in 8-bit levels, before re-encoding.</summary>
    public const double DefaultStrength = 1.6;

    /// <summary>
    /// Returns the picture with <paramref name="payload"/> embedded, in the input's format
    /// (JPEG at <paramref name="jpegQuality"/>, PNG stays PNG, WebP/BMP/TIFF kept, anything else becomes PNG).
    /// </summary>
    public static byte[] Embed(byte[] imageBytes, uint payload, WatermarkKey key, int jpegQuality = 92)
        => Embed(imageBytes, payload, key, jpegQuality, DefaultStrength);

    public static byte[] Embed(byte[] imageBytes, uint payload, WatermarkKey key, int jpegQuality, double strength)
    {
        ArgumentNullException.ThrowIfNull(imageBytes);
        ArgumentNullException.ThrowIfNull(key);
        var fmt = WatermarkImage.Detect(imageBytes);
        using var img = WatermarkImage.Decode(imageBytes);
        EmbedInPlace(img, payload, key, strength);
        return WatermarkImage.Encode(img, fmt == WatermarkImageFormat.Other ? WatermarkImageFormat.Png : fmt, jpegQuality);
    }

    /// <summary>A marked copy of a decoded 8-bit picture (1, 3 or 4 channels; alpha untouched).</summary>
    internal static Mat EmbedMat(Mat img, uint payload, WatermarkKey key, double strength = DefaultStrength)
    {
        var marked = img.Clone();
        EmbedInPlace(marked, payload, key, strength);
        return marked;
    }

    /// <summary>Marks a decoded 8-bit picture in place (a copy of a 12-megapixel picture costs a third of the marking).</summary>
    internal static void EmbedInPlace(Mat img, uint payload, WatermarkKey key, double strength = DefaultStrength)
    {
        var layout = WatermarkLayout.For(key);
        var coded = WatermarkCode.Encode(WatermarkCode.InfoFor(payload, key, layout.Whitening));
        var tile = layout.Tile(coded);
        int w = img.Cols, h = img.Rows;
        var fs = WatermarkImage.FrameSize(w, h);
        using var pattern = TilePattern(tile, fs);
        using var gray = WatermarkImage.ToGray(img);
        if ((double)w * h <= MaxWorkPixels)
        {
            using var delta = new Mat();
            Cv2.Resize(pattern, delta, new Size(w, h), 0, 0, InterpolationFlags.Linear);
            using (var mask = PerceptualMask(gray))
                Cv2.Multiply(delta, mask, delta);
            AddToChannels(img, delta, (float)Gain(delta, strength));
            return;
        }
        // A big picture: pattern and mask are smooth at this scale (the pattern comes from a frame with a short
        // side of 256, the mask is blurred), so their product is made at about a megapixel, quantised to
        // quarter levels in 8 bits (whose upsampling is fast) and added at full size through a table.
        var f = Math.Sqrt(MaxWorkPixels / ((double)w * h));
        var work = new Size(Math.Max(1, (int)Math.Round(w * f)), Math.Max(1, (int)Math.Round(h * f)));
        using var smallGray = new Mat();
        Cv2.Resize(gray, smallGray, work, 0, 0, InterpolationFlags.Area);
        using var smallDelta = new Mat();
        Cv2.Resize(pattern, smallDelta, work, 0, 0, InterpolationFlags.Linear);
        using (var mask = PerceptualMask(smallGray))
            Cv2.Multiply(smallDelta, mask, smallDelta);
        using var quantised = new Mat();
        smallDelta.ConvertTo(quantised, MatType.CV_8UC1, Gain(smallDelta, strength) * QuarterLevels, 128);
        using var full = new Mat();
        Cv2.Resize(quantised, full, new Size(w, h), 0, 0, InterpolationFlags.Linear);
        AddQuantisedToChannels(img, full);
    }

    /// <summary>Above this many pixels the mark is shaped at about this many pixels and upsampled.</summary>
    private const double MaxWorkPixels = 1.2e6;
    private const double QuarterLevels = 4;

    /// <summary>Factor that brings the pattern's root-mean-square to <paramref name="strength"/> levels.</summary>
    private static double Gain(Mat delta, double strength)
    {
        var rms = Cv2.Norm(delta, NormTypes.L2) / Math.Sqrt((double)delta.Cols * delta.Rows);
        return rms > 1e-9 ? strength / rms : 0;
    }

    /// <summary>The frame-sized pattern: the tile repeated from the frame's top-left corner.</summary>
    internal static Mat TilePattern(float[] tile, Size frame)
    {
        const int p = WatermarkLayout.Size;
        var m = new Mat(frame, MatType.CV_32FC1);
        unsafe
        {
            for (var y = 0; y < frame.Height; y++)
            {
                var row = (float*)m.Ptr(y);
                var trow = (y % p) * p;
                for (var x = 0; x < frame.Width; x++) row[x] = tile[trow + x % p];
            }
        }
        return m;
    }

    /// <summary>
    /// Per-pixel strength: local contrast (texture hides the mark) relative to the picture's mean, bounded,
    /// and reduced near black and white where changes clip or show.
    /// </summary>
    internal static Mat PerceptualMask(Mat gray8)
    {
        using var g = new Mat();
        gray8.ConvertTo(g, MatType.CV_32F);
        using var b = new Mat();
        Cv2.GaussianBlur(g, b, new Size(0, 0), 1.5);
        using var d = new Mat();
        Cv2.Subtract(g, b, d);
        Cv2.Multiply(d, d, d);
        using var e = new Mat();
        Cv2.GaussianBlur(d, e, new Size(0, 0), 4);
        Cv2.Sqrt(e, e);
        var meanA = Cv2.Mean(e).Val0;
        var m = new Mat(g.Size(), MatType.CV_32F);
        const float floor = 0.35f, ceil = 2.4f, c0 = 1.5f;
        var inv = (float)(1.0 / (meanA + c0));
        unsafe
        {
            for (int y = 0, rows = g.Rows; y < rows; y++)
            {
                var pa = (float*)e.Ptr(y);
                var pg = (float*)g.Ptr(y);
                var pm = (float*)m.Ptr(y);
                for (int x = 0, cols = g.Cols; x < cols; x++)
                {
                    var v = Math.Clamp((pa[x] + c0) * inv, floor, ceil);
                    var l = Math.Min(pg[x], 255f - pg[x]);
                    v *= Math.Clamp(l / 24f, 0.25f, 1f);
                    pm[x] = v;
                }
            }
        }
        return m;
    }

    private static void AddToChannels(Mat img, Mat delta, float alpha)
    {
        var ch = img.Channels();
        var colour = Math.Min(ch, 3);
        unsafe
        {
            for (int y = 0, rows = img.Rows; y < rows; y++)
            {
                var p = (byte*)img.Ptr(y);
                var dp = (float*)delta.Ptr(y);
                for (int x = 0, cols = img.Cols; x < cols; x++)
                {
                    var v = dp[x] * alpha;
                    var o = x * ch;
                    for (var c = 0; c < colour; c++)
                    {
                        var r = (int)MathF.Round(p[o + c] + v);
                        p[o + c] = (byte)(r < 0 ? 0 : r > 255 ? 255 : r);
                    }
                }
            }
        }
    }

    /// <summary>Adds a mark quantised to quarter levels around 128 (see <see cref="EmbedMat"/>) to every colour channel.</summary>
    private static void AddQuantisedToChannels(Mat img, Mat quantised)
    {
        Span<int> offset = stackalloc int[256];
        for (var i = 0; i < 256; i++) offset[i] = (int)MathF.Round((i - 128) / (float)QuarterLevels);
        var ch = img.Channels();
        var colour = Math.Min(ch, 3);
        unsafe
        {
            for (int y = 0, rows = img.Rows; y < rows; y++)
            {
                var p = (byte*)img.Ptr(y);
                var q = (byte*)quantised.Ptr(y);
                for (int x = 0, cols = img.Cols; x < cols; x++)
                {
                    var o = offset[q[x]];
                    if (o == 0) continue;
                    var at = x * ch;
                    for (var c = 0; c < colour; c++)
                    {
                        var r = p[at + c] + o;
                        p[at + c] = (byte)(r < 0 ? 0 : r > 255 ? 255 : r);
                    }
                }
            }
        }
    }
}
