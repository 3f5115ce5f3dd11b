using OpenCvSharp;

namespace LeakHunter.Index.Watermark;

/// <summary>The benchmark's attacks on a marked picture (8-bit BGR in, 8-bit BGR out).</summary>
public static class WatermarkAttacks
{
    internal sealed record Attack(string Name, Func<Mat, Random, Mat, Mat> Apply);

    /// <summary>All attacks; the third argument is another picture (for stickers).</summary>
    internal static IReadOnlyList<Attack> All { get; } =
    [
        new("none", (m, _, _) => m.Clone()),
        new("jpeg90", (m, _, _) => Jpeg(m, 90)),
        new("jpeg75", (m, _, _) => Jpeg(m, 75)),
        new("jpeg50", (m, _, _) => Jpeg(m, 50)),
        new("jpeg30", (m, _, _) => Jpeg(m, 30)),
        new("resize0.75", (m, _, _) => Resize(m, 0.75)),
        new("resize0.5", (m, _, _) => Resize(m, 0.5)),
        new("resize0.3", (m, _, _) => Resize(m, 0.3)),
        new("crop75", (m, r, _) => Crop(m, 0.75, r)),
        new("crop50", (m, r, _) => Crop(m, 0.50, r)),
        new("crop25", (m, r, _) => Crop(m, 0.25, r)),
        new("rotate2", (m, _, _) => Rotate(m, 2)),
        new("rotate5", (m, _, _) => Rotate(m, 5)),
        new("mirror", (m, _, _) => { var o = new Mat(); Cv2.Flip(m, o, FlipMode.Y); return o; }),
        new("brightness", (m, _, _) => { var o = new Mat(); m.ConvertTo(o, MatType.CV_8UC3, 1.0, 35); return o; }),
        new("contrast", (m, _, _) => { var o = new Mat(); m.ConvertTo(o, MatType.CV_8UC3, 1.35, -0.35 * 128); return o; }),
        new("saturation", (m, _, _) => Saturation(m, 1.7)),
        new("greyscale", (m, _, _) => { using var g = new Mat(); Cv2.CvtColor(m, g, ColorConversionCodes.BGR2GRAY); var o = new Mat(); Cv2.CvtColor(g, o, ColorConversionCodes.GRAY2BGR); return o; }),
        new("blur", (m, _, _) => { var o = new Mat(); Cv2.GaussianBlur(m, o, new Size(5, 5), 1.2); return o; }),
        new("noise", (m, r, _) => Noise(m, 6, r)),
        new("caption", (m, _, _) => Caption(m)),
        new("sticker25", (m, r, other) => Sticker(m, other, 0.25, r)),
        new("screenshot", (m, r, _) => Screenshot(m, r)),
        new("combo", (m, r, _) => Combo(m, r)),
    ];

    public static IReadOnlyList<string> Names { get; } = All.Select(a => a.Name).ToList();

    public static Mat Jpeg(Mat m, int q)
    {
        Cv2.ImEncode(".jpg", m, out var b, new ImageEncodingParam(ImwriteFlags.JpegQuality, q));
        return Cv2.ImDecode(b, ImreadModes.Color);
    }

    public static Mat Resize(Mat m, double f)
    {
        var o = new Mat();
        Cv2.Resize(m, o, new Size(Math.Max(1, (int)Math.Round(m.Cols * f)), Math.Max(1, (int)Math.Round(m.Rows * f))), 0, 0,
            f < 1 ? InterpolationFlags.Area : InterpolationFlags.Cubic);
        return o;
    }

    /// <summary>A random crop keeping <paramref name="area"/> of the area (same aspect ratio).</summary>
    public static Mat Crop(Mat m, double area, Random r)
    {
        var s = Math.Sqrt(area);
        int w = (int)Math.Round(m.Cols * s), h = (int)Math.Round(m.Rows * s);
        int x = r.Next(0, m.Cols - w + 1), y = r.Next(0, m.Rows - h + 1);
        return new Mat(m, new Rect(x, y, w, h)).Clone();
    }

    public static Mat Rotate(Mat m, double degrees)
    {
        using var rot = Cv2.GetRotationMatrix2D(new Point2f(m.Cols / 2f, m.Rows / 2f), degrees, 1.0);
        var o = new Mat();
        Cv2.WarpAffine(m, o, rot, m.Size(), InterpolationFlags.Linear, BorderTypes.Constant, Scalar.All(0));
        return o;
    }

    public static Mat Saturation(Mat m, double f)
    {
        using var hsv = new Mat();
        Cv2.CvtColor(m, hsv, ColorConversionCodes.BGR2HSV);
        var ch = Cv2.Split(hsv);
        ch[1].ConvertTo(ch[1], MatType.CV_8U, f);
        Cv2.Merge(ch, hsv);
        foreach (var c in ch) c.Dispose();
        var o = new Mat();
        Cv2.CvtColor(hsv, o, ColorConversionCodes.HSV2BGR);
        return o;
    }

    public static Mat Noise(Mat m, double sigma, Random r)
    {
        using var n = new Mat(m.Size(), MatType.CV_32FC3);
        Cv2.Randn(n, Scalar.All(0), Scalar.All(sigma));
        using var f = new Mat();
        m.ConvertTo(f, MatType.CV_32FC3);
        Cv2.Add(f, n, f);
        var o = new Mat();
        f.ConvertTo(o, MatType.CV_8UC3);
        _ = r;
        return o;
    }

    public static Mat Caption(Mat m)
    {
        var o = m.Clone();
        var scale = m.Cols / 400.0;
        var thick = Math.Max(2, (int)(scale * 3));
        void Put(string text, double yFrac)
        {
            var sz = Cv2.GetTextSize(text, HersheyFonts.HersheyDuplex, scale, thick, out _);
            var org = new Point((m.Cols - sz.Width) / 2, (int)(m.Rows * yFrac) + sz.Height / 2);
            Cv2.PutText(o, text, org, HersheyFonts.HersheyDuplex, scale, Scalar.All(0), thick * 3, LineTypes.AntiAlias);
            Cv2.PutText(o, text, org, HersheyFonts.HersheyDuplex, scale, Scalar.All(255), thick, LineTypes.AntiAlias);
        }
        Put("WHEN THE LEAK", 0.1);
        Put("IS INVISIBLE", 0.9);
        return o;
    }

    public static Mat Sticker(Mat m, Mat other, double area, Random r)
    {
        var o = m.Clone();
        var s = Math.Sqrt(area);
        int w = (int)(m.Cols * s), h = (int)(m.Rows * s);
        int x = r.Next(0, m.Cols - w + 1), y = r.Next(0, m.Rows - h + 1);
        using var st = new Mat();
        Cv2.Resize(other, st, new Size(w, h), 0, 0, InterpolationFlags.Area);
        using var roi = new Mat(o, new Rect(x, y, w, h));
        st.CopyTo(roi);
        return o;
    }

    /// <summary>The picture shown at 70 % inside a larger page with text and chrome, like a screenshot.</summary>
    public static Mat Screenshot(Mat m, Random r)
    {
        int cw = (int)(m.Cols * 1.5), ch = (int)(m.Rows * 1.6);
        var page = new Mat(ch, cw, MatType.CV_8UC3, new Scalar(245, 245, 245));
        Cv2.Rectangle(page, new Rect(0, 0, cw, (int)(ch * 0.08)), new Scalar(60, 50, 40), -1);
        for (var i = 0; i < 12; i++)
            Cv2.PutText(page, "Lorem ipsum dolor sit amet, consectetur adipiscing elit", new Point(10, (int)(ch * 0.12) + i * 28),
                HersheyFonts.HersheySimplex, 0.6, Scalar.All(30), 1, LineTypes.AntiAlias);
        using var pic = Resize(m, 0.7);
        int x = r.Next(cw / 4, cw - pic.Cols - 5), y = r.Next(ch / 4, ch - pic.Rows - 5);
        using (var roi = new Mat(page, new Rect(x, y, pic.Cols, pic.Rows))) pic.CopyTo(roi);
        return page;
    }

    public static Mat Combo(Mat m, Random r)
    {
        using var c = Crop(m, 0.7, r);
        using var s = Resize(c, 0.6);
        using var b = new Mat();
        s.ConvertTo(b, MatType.CV_8UC3, 1.15, 10);
        using var sat = Saturation(b, 1.3);
        return Jpeg(sat, 50);
    }
}
