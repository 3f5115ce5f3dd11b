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
    public static unsafe Rect Inside(Mat bgr)
    {
        if (bgr.Type() != MatType.CV_8UC3)
            throw new ArgumentException($"PlainBorder needs an 8-bit BGR picture, not {bgr.Type()}", nameof(bgr));
        // Read in place, line by line: the lines of a plain border are many (half the picture on a plain
        // background), and a call into OpenCV per line cost more than the query's hashes.
        int w = bgr.Width, h = bgr.Height;
        byte* origin = (byte*)bgr.Data;
        long step = bgr.Step();
        // Each side: its outermost line, how far the next line inward starts, and how far apart the pixels of a line are.
        int top = Depth(origin, step, 3, w, h / 2);
        int bottom = Depth(origin + (h - 1) * step, -step, 3, w, h / 2);
        int left = Depth(origin, 3, step, h, w / 2);
        int right = Depth(origin + 3 * (w - 1), -3, step, h, w / 2);
        var inside = new Rect(left, top, w - left - right, h - top - bottom);
        // A picture that is nearly all one colour has no "inside" worth comparing.
        return inside.Width < w / 4 || inside.Height < h / 4 ? new Rect(0, 0, w, h) : inside;
    }

    /// <summary>
    /// How many lines from one side (0 when the first line is not plain) have the first line's colour. Line i starts
    /// at <paramref name="first"/> + i * <paramref name="lineStep"/> and has <paramref name="length"/> pixels,
    /// <paramref name="stride"/> bytes apart.
    /// </summary>
    private static unsafe int Depth(byte* first, long lineStep, long stride, int length, int limit)
    {
        Span<int> low = stackalloc int[3], high = stackalloc int[3];
        ColourRange(first, stride, length, low, high);
        int depth = 0;
        while (depth < Math.Max(1, limit) && Plain(first + depth * lineStep, stride, length, low, high))
            depth++;
        return depth >= MinWidth ? depth : 0;
    }

    /// <summary>The line's mean colour, widened by <see cref="ColourTolerance"/> and rounded to 8-bit bounds, per channel.</summary>
    private static unsafe void ColourRange(byte* start, long stride, int length, Span<int> low, Span<int> high)
    {
        for (int c = 0; c < 3; c++)
        {
            long sum = 0;
            for (int j = 0; j < length; j++)
                sum += start[j * stride + c];
            double mean = (double)sum / length;
            low[c] = (int)Math.Clamp(Math.Round(mean - ColourTolerance), 0, 255);
            high[c] = (int)Math.Clamp(Math.Round(mean + ColourTolerance), 0, 255);
        }
    }

    private static unsafe bool Plain(byte* start, long stride, int length, ReadOnlySpan<int> low, ReadOnlySpan<int> high)
    {
        int allowedOff = length - (int)Math.Ceiling(BorderShare * length), off = 0;
        for (int j = 0; j < length; j++)
        {
            byte* p = start + j * stride;
            if (p[0] < low[0] || p[0] > high[0] || p[1] < low[1] || p[1] > high[1] || p[2] < low[2] || p[2] > high[2])
                if (++off > allowedOff)
                    return false;
        }
        return true;
    }
}
