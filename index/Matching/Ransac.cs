using System.Numerics;
using OpenCvSharp;

namespace LeakHunter.Index.Matching;

/// <summary>
/// Robust transform estimation for verification: RANSAC over 3-point affine hypotheses (copies are
/// scaled, cropped, rotated, stretched; a mild perspective is absorbed by the final fit), then a
/// least-squares homography on the inliers, re-scored and refitted twice. Deterministic (fixed seed).
/// </summary>
internal static class Ransac
{
    public static (double[] H, bool[] Inliers)? Estimate(IReadOnlyList<Point2f> src, IReadOnlyList<Point2f> dst, double threshold, int seed = 12345)
    {
        int n = src.Count;
        if (n < 4)
            return null;
        var rng = new Random(seed);
        double thr2 = threshold * threshold;
        int bestCount = 0;
        double[]? best = null;
        int maxIter = 2000;
        for (int it = 0; it < maxIter; it++)
        {
            int i = rng.Next(n), j = rng.Next(n), k = rng.Next(n);
            if (i == j || j == k || i == k)
                continue;
            var a = SolveAffine(src[i], src[j], src[k], dst[i], dst[j], dst[k]);
            if (a is null || !PlausibleAffine(a))
                continue;
            int count = 0;
            for (int p = 0; p < n; p++)
            {
                double x = src[p].X, y = src[p].Y;
                double dx = a[0] * x + a[1] * y + a[2] - dst[p].X, dy = a[3] * x + a[4] * y + a[5] - dst[p].Y;
                if (dx * dx + dy * dy <= thr2) count++;
            }
            if (count > bestCount)
            {
                bestCount = count;
                best = a;
                double w = (double)count / n;
                double denom = Math.Log(1 - w * w * w);
                if (denom < 0)
                    maxIter = Math.Min(maxIter, Math.Max(200, (int)Math.Ceiling(Math.Log(1 - 0.999) / denom)));
            }
        }
        if (best is null || bestCount < 4)
            return null;
        double[] h = [best[0], best[1], best[2], best[3], best[4], best[5], 0, 0, 1];
        var mask = Score(h, src, dst, thr2, out int inl);
        for (int round = 0; round < 2 && inl >= 8; round++)
        {
            var s = new List<Point2f>(inl);
            var d = new List<Point2f>(inl);
            for (int p = 0; p < n; p++)
                if (mask[p]) { s.Add(src[p]); d.Add(dst[p]); }
            using var hm = Cv2.FindHomography(InputArray.Create(s), InputArray.Create(d), 0);
            if (hm.Empty())
                break;
            var h2 = new double[9];
            for (int r = 0; r < 3; r++)
                for (int c = 0; c < 3; c++)
                    h2[r * 3 + c] = hm.At<double>(r, c);
            var mask2 = Score(h2, src, dst, thr2, out int inl2);
            if (inl2 < inl)
                break;
            h = h2;
            mask = mask2;
            inl = inl2;
        }
        // Final geometry from the tightest inliers only (weak corners are located less precisely);
        // the inlier set stays the one scored at the full threshold.
        var tight = Score(h, src, dst, thr2 / 4, out int nTight);
        if (nTight >= 8)
        {
            var s = new List<Point2f>(nTight);
            var d = new List<Point2f>(nTight);
            for (int p = 0; p < n; p++)
                if (tight[p]) { s.Add(src[p]); d.Add(dst[p]); }
            using var hm = Cv2.FindHomography(InputArray.Create(s), InputArray.Create(d), 0);
            if (!hm.Empty())
            {
                var h3 = new double[9];
                for (int r = 0; r < 3; r++)
                    for (int c = 0; c < 3; c++)
                        h3[r * 3 + c] = hm.At<double>(r, c);
                var mask3 = Score(h3, src, dst, thr2, out int inl3);
                if (inl3 * 10 >= inl * 9)
                    return (h3, mask3);
            }
        }
        return (h, mask);
    }

    private static bool[] Score(double[] h, IReadOnlyList<Point2f> src, IReadOnlyList<Point2f> dst, double thr2, out int count)
    {
        var mask = new bool[src.Count];
        count = 0;
        for (int p = 0; p < src.Count; p++)
        {
            double x = src[p].X, y = src[p].Y;
            double w = h[6] * x + h[7] * y + h[8];
            if (w <= 1e-9) continue;
            double dx = (h[0] * x + h[1] * y + h[2]) / w - dst[p].X, dy = (h[3] * x + h[4] * y + h[5]) / w - dst[p].Y;
            if (dx * dx + dy * dy <= thr2) { mask[p] = true; count++; }
        }
        return mask;
    }

    private static bool PlausibleAffine(double[] a)
    {
        double det = a[0] * a[4] - a[1] * a[3];
        if (det <= 1.0 / 256 || det > 256)
            return false;
        double e = a[0] * a[0] + a[1] * a[1] + a[3] * a[3] + a[4] * a[4];
        double f = Math.Sqrt(Math.Max(0, e * e - 4 * det * det));
        double s2 = (e - f) / 2;
        return s2 > 0 && (e + f) / 2 / s2 <= 9.0; // stretch at most 3:1
    }

    /// <summary>Affine map taking p0,p1,p2 to q0,q1,q2: [a b c; d e f].</summary>
    private static double[]? SolveAffine(Point2f p0, Point2f p1, Point2f p2, Point2f q0, Point2f q1, Point2f q2)
    {
        double x1 = p1.X - p0.X, y1 = p1.Y - p0.Y, x2 = p2.X - p0.X, y2 = p2.Y - p0.Y;
        double det = x1 * y2 - x2 * y1;
        if (Math.Abs(det) < 25) // nearly collinear or too close together
            return null;
        double u1 = q1.X - q0.X, v1 = q1.Y - q0.Y, u2 = q2.X - q0.X, v2 = q2.Y - q0.Y;
        double a = (u1 * y2 - u2 * y1) / det, b = (x1 * u2 - x2 * u1) / det;
        double d = (v1 * y2 - v2 * y1) / det, e = (x1 * v2 - x2 * v1) / det;
        double c = q0.X - a * p0.X - b * p0.Y, f = q0.Y - d * p0.X - e * p0.Y;
        return [a, b, c, d, e, f];
    }
}

/// <summary>Brute-force Hamming k-nearest-neighbours for 256-bit descriptors.</summary>
internal static class HammingKnn
{
    /// <summary>For each query descriptor: best index and distance, and the best distance among train descriptors farther than minSeparation from the best.</summary>
    public static void Match(FeatureSet q, FeatureSet t, float minSeparation, Span<int> bestIdx, Span<int> bestDist, Span<int> secondDist)
    {
        var qd = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, ulong>(q.Descriptors.AsSpan());
        var td = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, ulong>(t.Descriptors.AsSpan());
        int nt = t.Count;
        var dist = new int[nt];
        float sep2 = minSeparation * minSeparation;
        for (int i = 0; i < q.Count; i++)
        {
            ulong a0 = qd[i * 4], a1 = qd[i * 4 + 1], a2 = qd[i * 4 + 2], a3 = qd[i * 4 + 3];
            int b = -1, bd = int.MaxValue;
            for (int j = 0; j < nt; j++)
            {
                int d = BitOperations.PopCount(a0 ^ td[j * 4]) + BitOperations.PopCount(a1 ^ td[j * 4 + 1]) +
                        BitOperations.PopCount(a2 ^ td[j * 4 + 2]) + BitOperations.PopCount(a3 ^ td[j * 4 + 3]);
                dist[j] = d;
                if (d < bd) { bd = d; b = j; }
            }
            int sd = int.MaxValue;
            if (b >= 0)
            {
                float bx = t.X[b], by = t.Y[b];
                for (int j = 0; j < nt; j++)
                {
                    if (dist[j] >= sd || j == b) continue;
                    float dx = t.X[j] - bx, dy = t.Y[j] - by;
                    if (dx * dx + dy * dy > sep2) sd = dist[j];
                }
            }
            bestIdx[i] = b;
            bestDist[i] = bd;
            secondDist[i] = sd;
        }
    }
}
