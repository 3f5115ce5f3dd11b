using OpenCvSharp;

namespace LeakHunter.Index.Embedding;

/// <summary>A sub-window of a picture in relative coordinates (0..1), optionally mirrored.</summary>
public readonly record struct ImageWindow(double X, double Y, double W, double H, bool Mirror)
{
    /// <summary>Compact name stored as the vector payload's window, e.g. "0.15,0.15,0.7,0.7,m".</summary>
    public string Name => $"{X:0.###},{Y:0.###},{W:0.###},{H:0.###}{(Mirror ? ",m" : "")}";

    /// <summary>The window's pixels (a new Mat), mirrored horizontally when Mirror is set.</summary>
    public Mat Cut(Mat image)
    {
        var x = (int)Math.Round(X * image.Width);
        var y = (int)Math.Round(Y * image.Height);
        var w = Math.Max(1, Math.Min(image.Width - x, (int)Math.Round(W * image.Width)));
        var h = Math.Max(1, Math.Min(image.Height - y, (int)Math.Round(H * image.Height)));
        using var roi = new Mat(image, new Rect(x, y, w, h));
        var result = new Mat();
        if (Mirror) Cv2.Flip(roi, result, FlipMode.Y);
        else roi.CopyTo(result);
        return result;
    }
}

/// <summary>
/// The windows of an original that get their own embedding (and hashes), so that a crop down to a
/// quarter of the picture still meets a window at a similar scale: the whole picture, a 3×3 grid of
/// windows of side 0.7 and a 3×3 grid of side 0.5, each also mirrored (38 windows).
/// </summary>
public static class CopyWindows
{
    public static IReadOnlyList<ImageWindow> Default { get; } = Build();

    private static List<ImageWindow> Build()
    {
        var list = new List<ImageWindow>();
        foreach (var mirror in new[] { false, true })
        {
            list.Add(new ImageWindow(0, 0, 1, 1, mirror));
            foreach (var side in new[] { 0.7, 0.5 })
                for (var gy = 0; gy < 3; gy++)
                    for (var gx = 0; gx < 3; gx++)
                        list.Add(new ImageWindow(gx * (1 - side) / 2, gy * (1 - side) / 2, side, side, mirror));
        }
        return list;
    }
}
