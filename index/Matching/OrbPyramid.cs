using OpenCvSharp;

namespace LeakHunter.Index.Matching;

/// <summary>
/// ORB's image pyramid, as OpenCV's ORB builds it: each level 1.2 times smaller than the one before and resized from
/// it (bit-exact bilinear), padded by 31 pixels of its own reflection so that a keypoint's patch never leaves it.
/// Detection (<see cref="OrbDetector"/>) reads the levels as they are; describing (<see cref="OrbDescriptors"/>) needs
/// them smoothed, which <see cref="Smooth"/> does in place, so that one pyramid serves both.
/// </summary>
internal sealed class OrbPyramid : IDisposable
{
    /// <summary>ORB's edge threshold and patch size: the padding around each level.</summary>
    public const int Border = 31;

    private readonly Mat[] _padded;
    private readonly Mat[] _levels;
    private int _smoothed;

    private OrbPyramid(Mat[] padded, Mat[] levels)
    {
        _padded = padded;
        _levels = levels;
    }

    public int Count => _levels.Length;

    /// <summary>Level <paramref name="level"/>'s picture (a view inside its padding; empty where the level has no pixels).</summary>
    public Mat Level(int level) => _levels[level];

    /// <summary>ORB's scale of a level, (float)pow(1.2, level) as OpenCV computes it from the float 1.2.</summary>
    public static float LayerScale(int level) => (float)Math.Pow((double)OrbDetector.ScaleFactor, level);

    public static OrbPyramid Build(Mat gray, int levels)
    {
        var padded = new Mat[levels];
        var inner = new Mat[levels];
        try
        {
            for (int level = 0; level < levels; level++)
            {
                float inverse = 1f / LayerScale(level);
                var size = new Size(RoundToEven(gray.Width * inverse), RoundToEven(gray.Height * inverse));
                if (size.Width <= 0 || size.Height <= 0 || level > 0 && inner[level - 1].Empty())
                {
                    (padded[level], inner[level]) = (new Mat(), new Mat());
                    continue;
                }
                padded[level] = new Mat(size.Height + 2 * Border, size.Width + 2 * Border, MatType.CV_8UC1);
                inner[level] = new Mat(padded[level], new Rect(Border, Border, size.Width, size.Height));
                if (level == 0)
                    Cv2.CopyMakeBorder(gray, padded[level], Border, Border, Border, Border, BorderTypes.Reflect101);
                else
                {
                    Cv2.Resize(inner[level - 1], inner[level], size, 0, 0, InterpolationFlags.LinearExact);
                    Cv2.CopyMakeBorder(inner[level], padded[level], Border, Border, Border, Border, BorderTypes.Reflect101 | BorderTypes.Isolated);
                }
            }
            return new OrbPyramid(padded, inner);
        }
        catch
        {
            foreach (var m in inner.Concat(padded))
                m?.Dispose();
            throw;
        }
    }

    /// <summary>Smooths the first <paramref name="levels"/> levels inside their padding (Gaussian 7x7, sigma 2), as ORB does before describing; each level once.</summary>
    public void Smooth(int levels)
    {
        for (; _smoothed < Math.Min(levels, Count); _smoothed++)
            if (!_levels[_smoothed].Empty())
                Cv2.GaussianBlur(_levels[_smoothed], _levels[_smoothed], new Size(7, 7), 2, 2, BorderTypes.Reflect101);
    }

    private static int RoundToEven(float v) => (int)MathF.Round(v, MidpointRounding.ToEven);

    public void Dispose()
    {
        foreach (var m in _levels)
            m.Dispose();
        foreach (var m in _padded)
            m.Dispose();
    }
}
