using OpenCvSharp;

namespace LeakHunter.EndToEnd.Tests;

/// <summary>Deterministic, detailed pictures drawn with OpenCV, and leak-like copies of them.</summary>
public static class TestImages
{
    /// <summary>A 640x480 picture of random shapes, lines and text over a gradient: plenty of corners to match on.</summary>
    public static byte[] Scene(int seed, string extension = ".png")
    {
        var random = new Random(seed);
        using var image = new Mat(480, 640, MatType.CV_8UC3);
        const int rows = 480;
        for (var y = 0; y < rows; y++)
            Cv2.Line(image, new Point(0, y), new Point(639, y), new Scalar(40 + y / 4, 80 + random.Next(20), 160 - y / 5));
        for (var i = 0; i < 60; i++)
        {
            var color = new Scalar(random.Next(256), random.Next(256), random.Next(256));
            var center = new Point(random.Next(640), random.Next(480));
            switch (i % 3)
            {
                case 0: Cv2.Circle(image, center, random.Next(5, 60), color, -1); break;
                case 1: Cv2.Rectangle(image, new Rect(center.X, center.Y, random.Next(10, 120), random.Next(10, 90)), color, -1); break;
                default: Cv2.Line(image, center, new Point(random.Next(640), random.Next(480)), color, random.Next(1, 6)); break;
            }
        }
        Cv2.PutText(image, $"scene {seed}", new Point(40, 440), HersheyFonts.HersheyDuplex, 1.5, Scalar.White, 3);
        return image.ImEncode(extension);
    }

    /// <summary>The picture scaled down and saved as a JPEG, as a forum would re-encode an upload.</summary>
    public static byte[] ResizedJpeg(byte[] picture, double scale, int quality)
    {
        using var source = Cv2.ImDecode(picture, ImreadModes.Color);
        using var resized = new Mat();
        Cv2.Resize(source, resized, new Size(), scale, scale, InterpolationFlags.Area);
        return resized.ImEncode(".jpg", new ImageEncodingParam(ImwriteFlags.JpegQuality, quality));
    }
}
