using OpenCvSharp;

namespace LeakHunter.ModelBuilder;

/// <summary>Leak-style augmentations: crop jitter around a window, rotation, mirror, rescale, stretch,
/// colour, grey, blur, borders, captions, stickers, JPEG.</summary>
public static class Augment
{
    private static readonly string[] Words = ["LEAK", "sample", "(c) 2024", "forum", "wallpaper", "HD", "free download", "lol", "#1", "exclusive"];

    /// <summary>A leaked-looking view of the given window (relative coords) of image.</summary>
    public static Mat View(Mat image, (double X, double Y, double W, double H) win, bool mirror, Random rng)
    {
        using var src = rng.NextDouble() < 0.15 ? Rotate(image, rng.NextDouble() * 20 - 10, rng) : image.Clone();
        // Crop jitter: shift by up to a fifth of the window, rescale by ±15 %.
        var s = 0.85 + rng.NextDouble() * 0.3;
        var w = Math.Min(1, win.W * s);
        var h = Math.Min(1, win.H * s);
        var cx = win.X + win.W / 2 + (rng.NextDouble() * 2 - 1) * 0.2 * win.W;
        var cy = win.Y + win.H / 2 + (rng.NextDouble() * 2 - 1) * 0.2 * win.H;
        var x = Math.Clamp(cx - w / 2, 0, 1 - w);
        var y = Math.Clamp(cy - h / 2, 0, 1 - h);
        var rect = new Rect((int)(x * src.Width), (int)(y * src.Height), Math.Max(8, (int)(w * src.Width)), Math.Max(8, (int)(h * src.Height)));
        rect = rect.Intersect(new Rect(0, 0, src.Width, src.Height));
        var m = new Mat(src, rect).Clone();
        if (mirror) Cv2.Flip(m, m, FlipMode.Y);

        var scale = 0.25 + rng.NextDouble() * 0.75;
        var sx = scale * (rng.NextDouble() < 0.3 ? 0.7 + rng.NextDouble() * 0.7 : 1);
        Cv2.Resize(m, m, new Size(Math.Max(48, (int)(m.Width * sx)), Math.Max(48, (int)(m.Height * scale))), 0, 0, InterpolationFlags.Area);
        if (rng.NextDouble() < 0.35) Colour(m, rng);
        if (rng.NextDouble() < 0.15) { Cv2.CvtColor(m, m, ColorConversionCodes.BGR2GRAY); Cv2.CvtColor(m, m, ColorConversionCodes.GRAY2BGR); }
        if (rng.NextDouble() < 0.25) Cv2.GaussianBlur(m, m, new Size(0, 0), 0.8 + rng.NextDouble() * 2);
        if (rng.NextDouble() < 0.25) Sticker(m, rng);
        if (rng.NextDouble() < 0.3) Text(m, rng);
        if (rng.NextDouble() < 0.25)
        {
            int bt = (int)(m.Height * rng.NextDouble() * 0.15), bl = (int)(m.Width * rng.NextDouble() * 0.15);
            var colour = rng.NextDouble() < 0.5 ? Scalar.All(rng.Next(2) * 255) : RandomColour(rng);
            var same = rng.NextDouble() < 0.6;
            Cv2.CopyMakeBorder(m, m, bt, same ? bt : (int)(m.Height * rng.NextDouble() * 0.15), bl, same ? bl : (int)(m.Width * rng.NextDouble() * 0.15), BorderTypes.Constant, colour);
        }
        if (rng.NextDouble() < 0.6)
        {
            Cv2.ImEncode(".jpg", m, out var jpeg, new ImageEncodingParam(ImwriteFlags.JpegQuality, 15 + rng.Next(75)));
            var decoded = Cv2.ImDecode(jpeg, ImreadModes.Color);
            m.Dispose();
            m = decoded;
        }
        return m;
    }

    private static Scalar RandomColour(Random rng) => new(rng.Next(256), rng.Next(256), rng.Next(256));

    private static Mat Rotate(Mat image, double degrees, Random rng)
    {
        var centre = new Point2f(image.Width / 2f, image.Height / 2f);
        using var rot = Cv2.GetRotationMatrix2D(centre, degrees, 1);
        var dst = new Mat();
        Cv2.WarpAffine(image, dst, rot, image.Size(), InterpolationFlags.Linear, BorderTypes.Constant,
            rng.NextDouble() < 0.7 ? Scalar.Black : Scalar.White);
        return dst;
    }

    private static void Colour(Mat m, Random rng)
    {
        using var hsv = new Mat();
        Cv2.CvtColor(m, hsv, ColorConversionCodes.BGR2HSV);
        var ch = hsv.Split();
        var shift = rng.Next(-12, 13);
        Cv2.Add(ch[0], new Scalar(shift < 0 ? 180 + shift : shift), ch[0]);
        using (var wrap = new Mat()) { Cv2.Compare(ch[0], new Scalar(180), wrap, CmpTypes.GE); Cv2.Subtract(ch[0], new Scalar(180), ch[0], wrap); }
        ch[1].ConvertTo(ch[1], -1, 0.5 + rng.NextDouble(), 0);
        Cv2.Merge(ch, hsv);
        foreach (var c in ch) c.Dispose();
        Cv2.CvtColor(hsv, m, ColorConversionCodes.HSV2BGR);
        m.ConvertTo(m, -1, 0.7 + rng.NextDouble() * 0.6, rng.Next(-35, 36));
    }

    private static void Sticker(Mat m, Random rng)
    {
        var r = (int)(Math.Min(m.Width, m.Height) * (0.08 + rng.NextDouble() * 0.17));
        var p = new Point(rng.Next(m.Width), rng.Next(m.Height));
        if (rng.NextDouble() < 0.5) Cv2.Circle(m, p, r, RandomColour(rng), -1, LineTypes.AntiAlias);
        else Cv2.Rectangle(m, new Rect(p.X - r, p.Y - r / 2, 2 * r, r), RandomColour(rng), -1);
    }

    private static void Text(Mat m, Random rng)
    {
        var text = Words[rng.Next(Words.Length)];
        var scale = m.Height / 200.0 * (0.6 + rng.NextDouble() * 1.4);
        var org = new Point(rng.Next(Math.Max(1, m.Width / 2)), rng.Next(m.Height / 5, m.Height));
        Cv2.PutText(m, text, org, HersheyFonts.HersheySimplex, scale, rng.NextDouble() < 0.5 ? Scalar.White : RandomColour(rng),
            Math.Max(1, (int)(scale * 2)), LineTypes.AntiAlias);
    }
}
