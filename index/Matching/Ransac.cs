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
        // Plain arrays for the hypothesis loop, which scores every point thousands of times.
        var sx = new double[n];
        var sy = new double[n];
        var dx0 = new double[n];
        var dy0 = new double[n];
        for (int p = 0; p < n; p++)
            (sx[p], sy[p], dx0[p], dy0[p]) = (src[p].X, src[p].Y, dst[p].X, dst[p].Y);
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
            double a0 = a[0], a1 = a[1], a2 = a[2], a3 = a[3], a4 = a[4], a5 = a[5];
            int count = 0;
            for (int p = 0; p < n; p++)
            {
                double dx = a0 * sx[p] + a1 * sy[p] + a2 - dx0[p], dy = a3 * sx[p] + a4 * sy[p] + a5 - dy0[p];
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
            if (FitHomography(src, dst, mask) is not { } h2)
                break;
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
        if (nTight >= 8 && FitHomography(src, dst, tight) is { } h3)
        {
            var mask3 = Score(h3, src, dst, thr2, out int inl3);
            if (inl3 * 10 >= inl * 9)
                return (h3, mask3);
        }
        return (h, mask);
    }

    /// <summary>
    /// Least-squares homography through the selected pairs: the direct linear transform on coordinates
    /// centred and scaled to unit spread (h33 = 1), then Levenberg-Marquardt steps on the reprojection
    /// error, which weighs every pair by its distance in pixels rather than the algebraic error's
    /// arbitrary weights (a few noisy corners of a small inlier set otherwise tilt the fit); null when
    /// the points are degenerate.
    /// </summary>
    internal static double[]? FitHomography(IReadOnlyList<Point2f> src, IReadOnlyList<Point2f> dst, bool[] selected)
    {
        var (sMx, sMy, sS) = Normalisation(src, selected);
        var (dMx, dMy, dS) = Normalisation(dst, selected);
        int n = selected.Count(x => x);
        var xs = new double[n];
        var ys = new double[n];
        var us = new double[n];
        var vs = new double[n];
        for (int p = 0, k = 0; p < src.Count; p++)
        {
            if (!selected[p]) continue;
            (xs[k], ys[k], us[k], vs[k]) = ((src[p].X - sMx) * sS, (src[p].Y - sMy) * sS, (dst[p].X - dMx) * dS, (dst[p].Y - dMy) * dS);
            k++;
        }
        if (LinearFit(xs, ys, us, vs) is not { } hn)
            return null;
        RefineReprojection(hn, xs, ys, us, vs);
        double[] normalised = [hn[0], hn[1], hn[2], hn[3], hn[4], hn[5], hn[6], hn[7], 1];
        // H = Tdst^-1 * N * Tsrc, with T(x) = (x - mean) * scale.
        double[] tSrc = [sS, 0, -sMx * sS, 0, sS, -sMy * sS, 0, 0, 1];
        double[] tDstInv = [1 / dS, 0, dMx, 0, 1 / dS, dMy, 0, 0, 1];
        var h = Verifier.Mul(tDstInv, Verifier.Mul(normalised, tSrc));
        if (Math.Abs(h[8]) < 1e-12)
            return null;
        for (int i = 0; i < 9; i++)
            h[i] /= h[8];
        return h;
    }

    /// <summary>The 8 homography parameters (h33 = 1) minimising the algebraic error; null when singular.</summary>
    private static double[]? LinearFit(double[] xs, double[] ys, double[] us, double[] vs)
    {
        var ata = new double[8, 8];
        var atb = new double[8];
        Span<double> row = stackalloc double[8];
        for (int k = 0; k < xs.Length; k++)
        {
            for (int r = 0; r < 2; r++)
            {
                double rhs = r == 0 ? us[k] : vs[k];
                row.Clear();
                row[3 * r] = xs[k];
                row[3 * r + 1] = ys[k];
                row[3 * r + 2] = 1;
                row[6] = -rhs * xs[k];
                row[7] = -rhs * ys[k];
                Accumulate(ata, atb, row, rhs);
            }
        }
        return Solve(ata, atb) ? atb : null;
    }

    /// <summary>Levenberg-Marquardt on the squared reprojection error, from the linear fit; h changes only where the error drops.</summary>
    private static void RefineReprojection(double[] h, double[] xs, double[] ys, double[] us, double[] vs)
    {
        double lambda = 1e-3;
        double error = ReprojectionError(h, xs, ys, us, vs);
        var trial = new double[8];
        Span<double> ju = stackalloc double[8];
        Span<double> jv = stackalloc double[8];
        for (int iteration = 0; iteration < 10 && error > 1e-12; iteration++)
        {
            var jtj = new double[8, 8];
            var jtr = new double[8];
            for (int k = 0; k < xs.Length; k++)
            {
                double x = xs[k], y = ys[k];
                double w = h[6] * x + h[7] * y + 1;
                if (Math.Abs(w) < 1e-9) return;
                double u = (h[0] * x + h[1] * y + h[2]) / w, v = (h[3] * x + h[4] * y + h[5]) / w;
                ju.Clear();
                jv.Clear();
                (ju[0], ju[1], ju[2], ju[6], ju[7]) = (x / w, y / w, 1 / w, -u * x / w, -u * y / w);
                (jv[3], jv[4], jv[5], jv[6], jv[7]) = (x / w, y / w, 1 / w, -v * x / w, -v * y / w);
                Accumulate(jtj, jtr, ju, us[k] - u);
                Accumulate(jtj, jtr, jv, vs[k] - v);
            }
            for (int i = 0; i < 8; i++)
                jtj[i, i] *= 1 + lambda;
            if (!Solve(jtj, jtr))
                return;
            for (int i = 0; i < 8; i++)
                trial[i] = h[i] + jtr[i];
            double trialError = ReprojectionError(trial, xs, ys, us, vs);
            if (trialError < error)
            {
                Array.Copy(trial, h, 8);
                if (error - trialError < 1e-10 * error)
                    return;
                error = trialError;
                lambda /= 10;
            }
            else
                lambda *= 10;
        }
    }

    private static double ReprojectionError(double[] h, double[] xs, double[] ys, double[] us, double[] vs)
    {
        double sum = 0;
        for (int k = 0; k < xs.Length; k++)
        {
            double w = h[6] * xs[k] + h[7] * ys[k] + 1;
            if (Math.Abs(w) < 1e-9) return double.MaxValue;
            double du = (h[0] * xs[k] + h[1] * ys[k] + h[2]) / w - us[k], dv = (h[3] * xs[k] + h[4] * ys[k] + h[5]) / w - vs[k];
            sum += du * du + dv * dv;
        }
        return sum;
    }

    /// <summary>Adds one row of a least-squares system to its normal equations.</summary>
    private static void Accumulate(double[,] ata, double[] atb, ReadOnlySpan<double> row, double rhs)
    {
        for (int i = 0; i < 8; i++)
        {
            if (row[i] == 0) continue;
            for (int j = 0; j < 8; j++)
                ata[i, j] += row[i] * row[j];
            atb[i] += row[i] * rhs;
        }
    }

    /// <summary>Mean and the scale that brings the selected points' mean distance from it to the square root of two.</summary>
    private static (double Mx, double My, double Scale) Normalisation(IReadOnlyList<Point2f> pts, bool[] selected)
    {
        double mx = 0, my = 0;
        int n = 0;
        for (int p = 0; p < pts.Count; p++)
            if (selected[p]) { mx += pts[p].X; my += pts[p].Y; n++; }
        mx /= n;
        my /= n;
        double spread = 0;
        for (int p = 0; p < pts.Count; p++)
            if (selected[p]) spread += Math.Sqrt((pts[p].X - mx) * (pts[p].X - mx) + (pts[p].Y - my) * (pts[p].Y - my));
        spread /= n;
        return (mx, my, spread > 1e-9 ? Math.Sqrt(2) / spread : 1);
    }

    /// <summary>Solves a x = b in place (b becomes x) by Gaussian elimination with partial pivoting; false when singular.</summary>
    private static bool Solve(double[,] a, double[] b)
    {
        int n = b.Length;
        for (int c = 0; c < n; c++)
        {
            int pivot = c;
            for (int r = c + 1; r < n; r++)
                if (Math.Abs(a[r, c]) > Math.Abs(a[pivot, c])) pivot = r;
            if (Math.Abs(a[pivot, c]) < 1e-12)
                return false;
            if (pivot != c)
            {
                for (int j = 0; j < n; j++) (a[c, j], a[pivot, j]) = (a[pivot, j], a[c, j]);
                (b[c], b[pivot]) = (b[pivot], b[c]);
            }
            for (int r = c + 1; r < n; r++)
            {
                double f = a[r, c] / a[c, c];
                if (f == 0) continue;
                for (int j = c; j < n; j++) a[r, j] -= f * a[c, j];
                b[r] -= f * b[c];
            }
        }
        for (int c = n - 1; c >= 0; c--)
        {
            double sum = b[c];
            for (int j = c + 1; j < n; j++) sum -= a[c, j] * b[j];
            b[c] = sum / a[c, c];
        }
        return true;
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
