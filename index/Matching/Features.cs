using LeakHunter.Index.Imaging;
using OpenCvSharp;

namespace LeakHunter.Index.Matching;

/// <summary>ORB keypoints (positions only) and their 32-byte descriptors, row-major.</summary>
internal sealed class FeatureSet
{
    public const int DescriptorBytes = 32;

    public FeatureSet(float[] x, float[] y, byte[] descriptors)
    {
        X = x;
        Y = y;
        Descriptors = descriptors;
    }

    public float[] X { get; }
    public float[] Y { get; }
    public byte[] Descriptors { get; }
    public int Count => X.Length;

    public static readonly FeatureSet Empty = new([], [], []);

    /// <summary>
    /// Detects ORB features on a gray picture: of twice the budget detected, each cell of a 4x4 grid keeps its
    /// strongest share, so that every part of the picture (and hence any crop of it) keeps features.
    /// </summary>
    public static FeatureSet Detect(Mat gray, int maxFeatures, int fastThreshold = 12, double cellShare = 0.5)
    {
        using var orb = CreateOrb(maxFeatures, fastThreshold);
        return DetectSelected(orb, gray, maxFeatures, cellShare, out _);
    }

    /// <summary>Features of a query; <paramref name="selected"/> are their keypoints, for <see cref="DescribeMirror"/>.</summary>
    public static FeatureSet DetectQuery(Mat gray, int maxFeatures, int fastThreshold, double cellShare, out KeyPoint[] selected)
    {
        using var orb = CreateOrb(maxFeatures, fastThreshold, QueryPyramidLevels);
        return DetectSelected(orb, gray, maxFeatures, cellShare, out selected);
    }

    /// <summary>
    /// Features of the mirror image of a query whose keypoints <see cref="DetectQuery"/> found. They are not
    /// detected again: FAST corners and Harris scores are symmetric, so the mirror's keypoints are the picture's
    /// reflected (x to width-1-x, orientation angle to 180-angle); only their descriptors are computed, on the
    /// flipped picture. That costs a third of a detection.
    /// </summary>
    public static FeatureSet DescribeMirror(Mat gray, KeyPoint[] selected, int maxFeatures, int fastThreshold)
    {
        if (selected.Length == 0)
            return Empty;
        using var orb = CreateOrb(maxFeatures, fastThreshold, QueryPyramidLevels);
        using var mirrorGray = new Mat();
        Cv2.Flip(gray, mirrorGray, FlipMode.Y);
        int width = gray.Width;
        var reflected = selected.Select(k => new KeyPoint(new Point2f(width - 1 - k.Pt.X, k.Pt.Y), k.Size,
            (540f - k.Angle) % 360f, k.Response, k.Octave, k.ClassId)).ToArray();
        return Describe(orb, mirrorGray, reflected, out _);
    }

    /// <summary>Pyramid levels (1.2 apart) of originals: they span a scale factor of 3.6.</summary>
    private const int OriginalPyramidLevels = 8;

    /// <summary>
    /// Pyramid levels of queries: they span 2.5. A query is brought to 480-640 px and its original to 800, and
    /// the two pyramids together cover the scale between them; fewer coarse levels leave more of the budget to
    /// the fine ones, which hold the distinctive corners (dev: recall 97.7 -> 98.3 %, features and
    /// verification a fifth faster).
    /// </summary>
    private const int QueryPyramidLevels = 6;

    private static ORB CreateOrb(int maxFeatures, int fastThreshold, int levels = OriginalPyramidLevels) =>
        OrbDetector.CreateOpenCvOrb(maxFeatures * 2, levels, fastThreshold);

    /// <summary>
    /// Detects up to twice the budget, keeps the strongest per cell of a 4x4 grid and fills with the globally strongest,
    /// then describes only the kept keypoints (describing is a third of ORB's time; the descriptors are the ones
    /// detecting and describing in one call gives).
    /// </summary>
    private static FeatureSet DetectSelected(ORB orb, Mat gray, int maxFeatures, double cellShare, out KeyPoint[] selected)
    {
        // One pyramid for detecting and describing, where both are done here (see OrbDetector and OrbDescriptors).
        using var pyramid = OrbDetector.Available && OrbDescriptors.Available ? OrbPyramid.Build(gray, orb.NLevels) : null;
        var keypoints = (pyramid is null ? null : OrbDetector.TryDetect(pyramid, orb.MaxFeatures, orb.FastThreshold)) ?? orb.Detect(gray);
        selected = [];
        if (keypoints.Length == 0)
            return Empty;
        const int grid = 4;
        int perCell = Math.Max(1, (int)(maxFeatures * cellShare / (grid * grid)));
        var strongestFirst = StrongestFirst(keypoints);
        int width = gray.Width, height = gray.Height; // each a call into OpenCV: read once, not per keypoint
        var chosen = new bool[keypoints.Length];
        var takenInCell = new int[grid * grid];
        int count = 0;
        foreach (int i in strongestFirst)
        {
            int cx = Math.Clamp((int)(keypoints[i].Pt.X * grid / width), 0, grid - 1);
            int cy = Math.Clamp((int)(keypoints[i].Pt.Y * grid / height), 0, grid - 1);
            if (takenInCell[cy * grid + cx]++ < perCell)
            {
                chosen[i] = true;
                count++;
            }
        }
        foreach (int i in strongestFirst)
        {
            if (count >= maxFeatures) break;
            if (!chosen[i])
            {
                chosen[i] = true;
                count++;
            }
        }
        var kept = new KeyPoint[count];
        for (int i = 0, k = 0; i < keypoints.Length; i++)
            if (chosen[i])
                kept[k++] = keypoints[i];
        return Describe(orb, gray, kept, out selected, pyramid);
    }

    /// <summary>
    /// Indices of the keypoints, strongest response first and equal responses in detection order. Sorted as one
    /// 64-bit key each (the response's bits, ordered so that a larger response is a smaller key, above the index),
    /// instead of sorting the indices with a comparison delegate called for every comparison.
    /// </summary>
    internal static int[] StrongestFirst(KeyPoint[] keypoints)
    {
        var keys = new ulong[keypoints.Length];
        for (int i = 0; i < keys.Length; i++)
            keys[i] = (ulong)DescendingOrder(keypoints[i].Response) << 32 | (uint)i;
        Array.Sort(keys);
        var order = new int[keys.Length];
        for (int i = 0; i < order.Length; i++)
            order[i] = (int)(uint)keys[i];
        return order;
    }

    /// <summary>
    /// A key that orders floats from the largest down (total order: -0 and +0 are equal, as CompareTo has them, and
    /// NaN last). Positive floats order as their bits; negative ones in reverse; the key is then flipped.
    /// </summary>
    private static uint DescendingOrder(float value)
    {
        if (float.IsNaN(value))
            return uint.MaxValue;
        if (value == 0)
            value = 0; // -0 sorts with +0
        uint bits = BitConverter.SingleToUInt32Bits(value);
        uint ascending = (bits & 0x8000_0000) != 0 ? ~bits : bits | 0x8000_0000;
        return ~ascending;
    }

    /// <summary>Descriptors of keypoints detected on gray (see <see cref="OrbDescriptors"/>); <paramref name="kept"/> are those not dropped at the border.</summary>
    private static FeatureSet Describe(ORB orb, Mat gray, KeyPoint[] keypoints, out KeyPoint[] kept, OrbPyramid? pyramid = null)
    {
        byte[] descriptors;
        if (OrbDescriptors.TryCompute(gray, keypoints, pyramid) is var (described, computedHere))
            (kept, descriptors) = (described, computedHere);
        else
        {
            using var computed = new Mat();
            orb.Compute(gray, ref keypoints, computed);
            (kept, descriptors) = (keypoints, MatBytes.Of(computed));
        }
        if (kept.Length == 0 || descriptors.Length == 0)
            return Empty;
        return new FeatureSet(kept.Select(k => k.Pt.X).ToArray(), kept.Select(k => k.Pt.Y).ToArray(), descriptors);
    }

    public Mat DescriptorMat() => Mat.FromPixelData(Count, DescriptorBytes, MatType.CV_8UC1, Descriptors);
}
