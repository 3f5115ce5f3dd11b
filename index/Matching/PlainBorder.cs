using OpenCvSharp;

namespace LeakHunter.Index.Matching;

/// <summary>
/// Finds a plain border around a picture (a frame of one colour added when it was re-published), so that
/// the picture inside can be compared with an original's whole frame.
/// </summary>
internal static class PlainBorder
{
    /// <summary>Largest difference from the border colour, per channel, that still counts as border (JPEG ringing).</summary>
    private const int ColourTolerance = 24;
    /// <summary>Share of a row or column that must have the border colour.</summary>
    private const double BorderShare = 0.97;
    /// <summary>A border is at least this many pixels wide on the side it is on; thinner is an edge of the picture.</summary>
    private const int MinWidth = 3;

    /// <summary>The rectangle inside the plain border of a BGR picture; the whole picture when it has none.</summary>
    public static Rect Inside(Mat bgr)
    {
        int w = bgr.Width, h = bgr.Height;
        int top = Depth(bgr, i => new Rect(0, i, w, 1), h / 2);
        int bottom = Depth(bgr, i => new Rect(0, h - 1 - i, w, 1), h / 2);
        int left = Depth(bgr, i => new Rect(i, 0, 1, h), w / 2);
        int right = Depth(bgr, i => new Rect(w - 1 - i, 0, 1, h), w / 2);
        var inside = new Rect(left, top, w - left - right, h - top - bottom);
        // A picture that is nearly all one colour has no "inside" worth comparing.
        return inside.Width < w / 4 || inside.Height < h / 4 ? new Rect(0, 0, w, h) : inside;
    }

    /// <summary>How many lines from one side (0 when the first line is not plain) have the first line's colour.</summary>
    private static int Depth(Mat bgr, Func<int, Rect> line, int limit)
    {
        Scalar colour;
        using (var first = new Mat(bgr, line(0)))
        {
            colour = Cv2.Mean(first);
            if (!Plain(first, colour))
                return 0;
        }
        int depth = 1;
        for (; depth < limit; depth++)
        {
            using var next = new Mat(bgr, line(depth));
            if (!Plain(next, colour))
                break;
        }
        return depth >= MinWidth ? depth : 0;
    }

    private static bool Plain(Mat line, Scalar colour)
    {
        using var lower = new Mat();
        Cv2.InRange(line, new Scalar(colour.Val0 - ColourTolerance, colour.Val1 - ColourTolerance, colour.Val2 - ColourTolerance),
            new Scalar(colour.Val0 + ColourTolerance, colour.Val1 + ColourTolerance, colour.Val2 + ColourTolerance), lower);
        return Cv2.CountNonZero(lower) >= BorderShare * line.Total();
    }
}
