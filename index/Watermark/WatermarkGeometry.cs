using OpenCvSharp;

namespace LeakHunter.Index.Watermark;

/// <summary>
/// Registration of a found picture onto its original for informed decoding: ORB features, ratio-tested
/// Hamming matches and a RANSAC homography, tried on the found picture and on its mirror image.
/// </summary>
internal static class WatermarkGeometry
{
    private const int WorkSide = 1000;

    /// <summary>
    /// 3x3 homography (CV_64F) mapping query pixels to original pixels, or null. <paramref name="sift"/> uses
    /// SIFT (slower, more robust to scale and clutter) instead of ORB.
    /// </summary>
    public static Mat? EstimateHomography(Mat query8, Mat original8, bool sift = false)
    {
        using var q = Prepare(query8, out var sq);
        using var o = Prepare(original8, out var so);
        using Feature2D det = sift ? OpenCvSharp.Features2D.SIFT.Create(2500) : ORB.Create(4000, 1.2f, 8, 31, 0, 2, ORBScoreType.Harris, 31, 6);
        var norm = sift ? NormTypes.L2 : NormTypes.Hamming;
        using var dq = new Mat();
        using var dO = new Mat();
        det.DetectAndCompute(o, null, out var ko, dO);
        if (ko.Length < 8) return null;
        det.DetectAndCompute(q, null, out var kq, dq);
        var (h1, n1) = Fit(kq, dq, ko, dO, norm);
        var (h2, n2) = ((Mat?)null, 0);
        if (n1 < 40)
        {
            using var qf = new Mat();
            using var dqf = new Mat();
            Cv2.Flip(q, qf, FlipMode.Y);
            det.DetectAndCompute(qf, null, out var kqf, dqf);
            (h2, n2) = Fit(kqf, dqf, ko, dO, norm);
        }
        if (Environment.GetEnvironmentVariable("WM_DEBUG") == "1")
            Console.Error.WriteLine($"{(sift ? "sift" : "orb")}: o={ko.Length} q={kq.Length} inl={n1} flipped={n2}");
        Mat? hs;
        if (n2 > n1 && h2 is not null)
        {
            // query -> flipped query: x' = (w - 1) - x
            using var f = new Mat(3, 3, MatType.CV_64F, Scalar.All(0));
            f.Set(0, 0, -1.0); f.Set(0, 2, q.Cols - 1.0); f.Set(1, 1, 1.0); f.Set(2, 2, 1.0);
            hs = new Mat();
            Cv2.Gemm(h2, f, 1, new Mat(), 0, hs);
            h2.Dispose();
            h1?.Dispose();
        }
        else
        {
            hs = h1;
            h2?.Dispose();
        }
        if (hs is null) return null;
        // Full resolution: H = So^-1 * Hs * Sq
        using var sqm = Diag(sq);
        using var soi = Diag(1.0 / so);
        using var t = new Mat();
        Cv2.Gemm(hs, sqm, 1, new Mat(), 0, t);
        var h = new Mat();
        Cv2.Gemm(soi, t, 1, new Mat(), 0, h);
        hs.Dispose();
        return h;
    }

    /// <summary>Downscaled to at most 1000 px and locally contrast-equalised (finds corners in soft pictures).</summary>
    private static Mat Prepare(Mat g, out double s)
    {
        using var m = Scaled(g, out s);
        var e = new Mat();
        using var clahe = Cv2.CreateCLAHE(3.0, new Size(8, 8));
        clahe.Apply(m, e);
        return e;
    }

    private static Mat Diag(double s)
    {
        var m = new Mat(3, 3, MatType.CV_64F, Scalar.All(0));
        m.Set(0, 0, s); m.Set(1, 1, s); m.Set(2, 2, 1.0);
        return m;
    }

    private static Mat Scaled(Mat g, out double s)
    {
        var longSide = Math.Max(g.Cols, g.Rows);
        s = longSide > WorkSide ? (double)WorkSide / longSide : 1.0;
        var m = new Mat();
        if (s < 1) Cv2.Resize(g, m, new Size(0, 0), s, s, InterpolationFlags.Area);
        else g.CopyTo(m);
        return m;
    }

    private static (Mat? H, int Inliers) Fit(KeyPoint[] kq, Mat dq, KeyPoint[] ko, Mat dO, NormTypes norm)
    {
        if (kq.Length < 8 || dq.Empty() || dO.Empty()) return (null, 0);
        using var matcher = new BFMatcher(norm);
        var knn = matcher.KnnMatch(dq, dO, 2);
        var src = new List<Point2f>();
        var dst = new List<Point2f>();
        foreach (var m in knn)
        {
            if (m.Length < 2 || m[0].Distance >= 0.8 * m[1].Distance) continue;
            src.Add(kq[m[0].QueryIdx].Pt);
            dst.Add(ko[m[0].TrainIdx].Pt);
        }
        if (src.Count < 10) return (null, 0);
        using var mask = new Mat();
        var h = Cv2.FindHomography(src.Select(p => new Point2d(p.X, p.Y)), dst.Select(p => new Point2d(p.X, p.Y)),
            HomographyMethods.Ransac, 3.0, mask);
        if (h.Empty()) { h.Dispose(); return (null, 0); }
        var inliers = Cv2.CountNonZero(mask);
        if (inliers < 10) { h.Dispose(); return (null, inliers); }
        return (h, inliers);
    }
}
