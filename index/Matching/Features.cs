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
    /// Detects ORB features on a gray picture. Detection runs per tile of a 4x4 grid with a share of
    /// the budget each, so that every part of the picture (and hence any crop of it) keeps features.
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
        var reflected = selected.Select(k => new KeyPoint(new Point2f(gray.Width - 1 - k.Pt.X, k.Pt.Y), k.Size,
            (540f - k.Angle) % 360f, k.Response, k.Octave, k.ClassId)).ToArray();
        using var desc = new Mat();
        orb.Compute(mirrorGray, ref reflected, desc);
        return FromKeypoints(reflected, desc);
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
        ORB.Create(maxFeatures * 2, 1.2f, levels, 31, 0, 2, ORBScoreType.Harris, 31, fastThreshold);

    /// <summary>Detects and describes up to twice the budget, then keeps the strongest per cell of a 4x4 grid and fills with the globally strongest.</summary>
    private static FeatureSet DetectSelected(ORB orb, Mat gray, int maxFeatures, double cellShare, out KeyPoint[] selected)
    {
        using var all = new Mat();
        orb.DetectAndCompute(gray, null, out var keypoints, all);
        selected = [];
        if (keypoints.Length == 0 || all.Empty())
            return Empty;
        const int grid = 4;
        int perCell = Math.Max(1, (int)(maxFeatures * cellShare / (grid * grid)));
        var chosen = new HashSet<int>();
        var byCell = new List<int>[grid * grid];
        for (int i = 0; i < byCell.Length; i++) byCell[i] = [];
        for (int i = 0; i < keypoints.Length; i++)
        {
            int cx = Math.Clamp((int)(keypoints[i].Pt.X * grid / gray.Width), 0, grid - 1);
            int cy = Math.Clamp((int)(keypoints[i].Pt.Y * grid / gray.Height), 0, grid - 1);
            byCell[cy * grid + cx].Add(i);
        }
        foreach (var cell in byCell)
            foreach (int i in cell.OrderByDescending(i => keypoints[i].Response).Take(perCell))
                chosen.Add(i);
        foreach (int i in Enumerable.Range(0, keypoints.Length).OrderByDescending(i => keypoints[i].Response))
        {
            if (chosen.Count >= maxFeatures) break;
            chosen.Add(i);
        }
        var rows = chosen.Order().ToArray();
        selected = rows.Select(i => keypoints[i]).ToArray();
        var bytes = new byte[rows.Length * DescriptorBytes];
        var allBytes = MatBytes.Of(all);
        for (int r = 0; r < rows.Length; r++)
            Buffer.BlockCopy(allBytes, rows[r] * DescriptorBytes, bytes, r * DescriptorBytes, DescriptorBytes);
        return new FeatureSet(selected.Select(k => k.Pt.X).ToArray(), selected.Select(k => k.Pt.Y).ToArray(), bytes);
    }

    private static FeatureSet FromKeypoints(KeyPoint[] keypoints, Mat descriptors)
    {
        int n = keypoints.Length;
        if (n == 0 || descriptors.Empty())
            return Empty;
        return new FeatureSet(keypoints.Select(k => k.Pt.X).ToArray(), keypoints.Select(k => k.Pt.Y).ToArray(), MatBytes.Of(descriptors));
    }

    public Mat DescriptorMat() => Mat.FromPixelData(Count, DescriptorBytes, MatType.CV_8UC1, Descriptors);
}
