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
        int top = Depth(i => origin + i * step, 3, w, h / 2);
        int bottom = Depth(i => origin + (h - 1 - i) * step, 3, w, h / 2);
        int left = Depth(i => origin + 3 * i, step, h, w / 2);
        int right = Depth(i => origin + 3 * (w - 1 - i), step, h, w / 2);
        var inside = new Rect(left, top, w - left - right, h - top - bottom);
        // A picture that is nearly all one colour has no "inside" worth comparing.
        return inside.Width < w / 4 || inside.Height < h / 4 ? new Rect(0, 0, w, h) : inside;
    }

    private unsafe delegate byte* LineStart(int line);

    /// <summary>
    /// How many lines from one side (0 when the first line is not plain) have the first line's colour. A line is
    /// <paramref name="length"/> pixels from its start, <paramref name="stride"/> bytes apart.
    /// </summary>
    private static unsafe int Depth(LineStart line, long stride, int length, int limit)
    {
        var (low, high) = ColourRange(line(0), stride, length);
        if (!Plain(line(0), stride, length, low, high))
            return 0;
        int depth = 1;
        while (depth < limit && Plain(line(depth), stride, length, low, high))
            depth++;
        return depth >= MinWidth ? depth : 0;
    }

    /// <summary>The line's mean colour, widened by <see cref="ColourTolerance"/> and rounded to 8-bit bounds, per channel.</summary>
    private static unsafe (int[] Low, int[] High) ColourRange(byte* start, long stride, int length)
    {
        var sum = new long[3];
        for (int j = 0; j < length; j++)
            for (int c = 0; c < 3; c++)
                sum[c] += start[j * stride + c];
        var low = new int[3];
        var high = new int[3];
        for (int c = 0; c < 3; c++)
        {
            double mean = (double)sum[c] / length;
            low[c] = (int)Math.Clamp(Math.Round(mean - ColourTolerance), 0, 255);
            high[c] = (int)Math.Clamp(Math.Round(mean + ColourTolerance), 0, 255);
        }
        return (low, high);
    }

    private static unsafe bool Plain(byte* start, long stride, int length, int[] low, int[] high)
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
