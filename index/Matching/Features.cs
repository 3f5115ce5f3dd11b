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
        using var orb = ORB.Create(maxFeatures * 2, 1.2f, 8, 31, 0, 2, ORBScoreType.Harris, 31, fastThreshold);
        var keypoints = orb.Detect(gray);
        if (keypoints.Length == 0)
            return Empty;
        // Keep the strongest per cell of a 4x4 grid, then fill with the globally strongest.
        const int grid = 4;
        int perCell = Math.Max(1, (int)(maxFeatures * cellShare / (grid * grid)));
        var chosen = new HashSet<int>();
        var indexed = keypoints.Select((k, i) => (k, i)).ToArray();
        var byCell = new List<(KeyPoint k, int i)>[grid * grid];
        for (int i = 0; i < byCell.Length; i++) byCell[i] = [];
        foreach (var (k, i) in indexed)
        {
            int cx = Math.Clamp((int)(k.Pt.X * grid / gray.Width), 0, grid - 1);
            int cy = Math.Clamp((int)(k.Pt.Y * grid / gray.Height), 0, grid - 1);
            byCell[cy * grid + cx].Add((k, i));
        }
        foreach (var cell in byCell)
            foreach (var (_, i) in cell.OrderByDescending(c => c.k.Response).Take(perCell))
                chosen.Add(i);
        foreach (var (_, i) in indexed.OrderByDescending(c => c.k.Response))
        {
            if (chosen.Count >= maxFeatures) break;
            chosen.Add(i);
        }
        var selected = chosen.Select(i => keypoints[i]).ToArray();
        using var desc = new Mat();
        orb.Compute(gray, ref selected, desc);
        int n = selected.Length;
        if (n == 0 || desc.Empty())
            return Empty;
        var x = new float[n];
        var y = new float[n];
        for (int i = 0; i < n; i++)
        {
            x[i] = selected[i].Pt.X;
            y[i] = selected[i].Pt.Y;
        }
        var bytes = new byte[n * DescriptorBytes];
        System.Runtime.InteropServices.Marshal.Copy(desc.Data, bytes, 0, bytes.Length);
        return new FeatureSet(x, y, bytes);
    }

    public Mat DescriptorMat() => Mat.FromPixelData(Count, DescriptorBytes, MatType.CV_8UC1, Descriptors);
}
