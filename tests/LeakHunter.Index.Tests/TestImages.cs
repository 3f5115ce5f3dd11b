using OpenCvSharp;

namespace LeakHunter.Index.Tests;

/// <summary>Deterministic synthetic pictures (shapes, lines, text on a gradient) and encoders for tests.</summary>
internal static class TestImages
{
    public static Mat Scene(int seed, int width = 640, int height = 480)
    {
        var rng = new Random(seed);
        var img = new Mat(height, width, MatType.CV_8UC3);
        for (int y = 0; y < height; y++)
        {
            var c = new Scalar(40 + 150 * y / height, 60 + rng.Next(40), 200 - 150 * y / height);
            img.Line(new Point(0, y), new Point(width - 1, y), c);
        }
        for (int i = 0; i < 60; i++)
        {
            var color = new Scalar(rng.Next(256), rng.Next(256), rng.Next(256));
            var p = new Point(rng.Next(width), rng.Next(height));
            switch (rng.Next(4))
            {
                case 0: img.Circle(p, 5 + rng.Next(40), color, rng.Next(2) == 0 ? -1 : 2 + rng.Next(4)); break;
                case 1: img.Rectangle(new Rect(p.X, p.Y, 10 + rng.Next(80), 10 + rng.Next(60)), color, rng.Next(2) == 0 ? -1 : 3); break;
                case 2: img.Line(p, new Point(rng.Next(width), rng.Next(height)), color, 1 + rng.Next(5)); break;
                default:
                    var pts = Enumerable.Range(0, 3 + rng.Next(3)).Select(_ => new Point(p.X + rng.Next(-60, 60), p.Y + rng.Next(-60, 60))).ToArray();
                    img.FillPoly([pts], color);
                    break;
            }
        }
        return img;
    }

    public static byte[] Jpeg(Mat img, int quality = 90)
    {
        Cv2.ImEncode(".jpg", img, out var bytes, new ImageEncodingParam(ImwriteFlags.JpegQuality, quality));
        return bytes;
    }

    public static byte[] Png(Mat img)
    {
        Cv2.ImEncode(".png", img, out var bytes);
        return bytes;
    }

    public static Mat Resized(Mat img, double s)
    {
        var dst = new Mat();
        Cv2.Resize(img, dst, new Size((int)(img.Width * s), (int)(img.Height * s)), 0, 0, InterpolationFlags.Area);
        return dst;
    }
}
