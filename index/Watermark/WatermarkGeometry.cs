using OpenCvSharp;

namespace LeakHunter.Index.Watermark;

/// <summary>
/// Registration of a found picture onto its original for informed decoding. Rough registrations come from
/// features (ORB or SIFT, ratio-tested matches, RANSAC homography and similarity, on the found picture and its
/// mirror image) or, for pictures with few distinct corners, from a multi-scale correlation search; ECC then
/// makes them precise (the mark needs the original's frame to a fraction of a mark-frame pixel).
/// </summary>
internal static class WatermarkGeometry
{
    private const int WorkSide = 1000;

    /// <summary>
    /// Candidate 3x3 homographies (CV_64F) mapping query pixels to original pixels, best supported first (at
    /// most four; empty when the features do not agree). <paramref name="sift"/> uses SIFT (slower, more robust
    /// to scale and clutter) instead of ORB. For the found picture and, unless it matched well, its mirror
    /// image, the ratio-tested matches get two fits: a RANSAC homography and a RANSAC similarity (rotation,
    /// scale, shift: two matches per draw, so it still finds the geometry when only a few percent of the
    /// matches are right, as with repetitive texture or a picture small inside a screenshot). The caller
    /// disposes them.
    /// </summary>
    public static List<Mat> EstimateCandidates(Mat query8, Mat original8, bool sift = false)
    {
        var found = new List<(Mat H, int Inliers)>();
        using var o = Prepare(original8, WorkSide, out var so);
        using var q = Prepare(query8, WorkSide, out var sq);
        using Feature2D det = sift ? OpenCvSharp.Features2D.SIFT.Create(2500) : ORB.Create(4000, 1.2f, 8, 31, 0, 2, ORBScoreType.Harris, 31, 6);
        var norm = sift ? NormTypes.L2 : NormTypes.Hamming;
        using var dq = new Mat();
        using var dO = new Mat();
        det.DetectAndCompute(o, null, out var ko, dO);
        if (ko.Length < 8) return [];
        det.DetectAndCompute(q, null, out var kq, dq);
        var best = 0;
        foreach (var flip in new[] { false, true })
        {
            if (flip && best >= 40) break;
            var (src, dst) = Matches(q, flip, det, norm, kq, dq, ko, dO);
            if (src.Count < 10) continue;
            using var f = new Mat(3, 3, MatType.CV_64F, Scalar.All(0));
            // query -> flipped query: x' = (w - 1) - x
            f.Set(0, 0, flip ? -1.0 : 1.0); f.Set(0, 2, flip ? q.Cols - 1.0 : 0.0); f.Set(1, 1, 1.0); f.Set(2, 2, 1.0);
            foreach (var similarity in new[] { false, true })
            {
                var (hs, n) = similarity ? FitSimilarity(src, dst) : FitHomography(src, dst);
                if (Environment.GetEnvironmentVariable("WM_DEBUG") == "1")
                    Console.Error.WriteLine($"{(sift ? "sift" : "orb")}{(flip ? " flipped" : "")} {(similarity ? "similarity" : "homography")}: o={ko.Length} q={kq.Length} matches={src.Count} inliers={n}");
                if (hs is null) continue;
                best = Math.Max(best, n);
                // Full resolution: H = So^-1 * Hs * F * Sq
                using var sqm = Diag(sq);
                using var soi = Diag(1.0 / so);
                using var t1 = Mul(f, sqm);
                using var t2 = Mul(hs, t1);
                found.Add((Mul(soi, t2), n));
                hs.Dispose();
            }
        }
        // Drop near duplicates (same geometry from both fits), keep the best supported.
        var result = new List<Mat>();
        foreach (var (h, _) in found.OrderByDescending(c => c.Inliers))
        {
            if (result.Count >= 4 || result.Any(r => CornerDistance(r, h, original8.Size()) < 2.0)) h.Dispose();
            else result.Add(h);
        }
        return result;
    }

    /// <summary>
    /// Registration without features, for the two commonest ways a picture is re-published: the whole original
    /// shown smaller or larger inside a bigger picture (a screenshot, a page, added borders), and a part of the
    /// original (a crop), each at any scale but upright. A multi-scale search of the normalised correlation
    /// (gain and offset invariant) of small grey versions: the original as template over the query, and the
    /// query as template over the original, scales 3 % apart. Returns the best of each (as query-to-original
    /// homographies, best first), rough to a pixel of the small versions: for <see cref="RefineEcc(Mat, Mat, Mat, out double)"/>.
    /// </summary>
    public static List<Mat> SearchScaleShift(Mat query8, Mat original8)
    {
        const int t = 96;          // template long side
        const double step = 1.03;  // scale ratio between tries
        const double range = 6;    // scales searched: the largest that fits, down to a sixth of it
        var found = new List<(Mat H, double Score)>();
        // A: the original inside the query. r = query pixels per original pixel.
        {
            var rmax = Math.Min((double)query8.Cols / original8.Cols, (double)query8.Rows / original8.Rows);
            var to = (double)t / Math.Max(original8.Cols, original8.Rows);
            var best = Search(original8, to, query8, rmax, range, step, (r, x, y) =>
            {
                // query scaled by to / r: o = (q * to / r - xy) / to
                var h = new Mat(3, 3, MatType.CV_64F, Scalar.All(0));
                h.Set(0, 0, 1 / r); h.Set(0, 2, -x / to); h.Set(1, 1, 1 / r); h.Set(1, 2, -y / to); h.Set(2, 2, 1.0);
                return h;
            });
            if (best is { } b) found.Add(b);
        }
        // B: the query inside the original. k = original pixels per query pixel.
        {
            var kmax = Math.Min((double)original8.Cols / query8.Cols, (double)original8.Rows / query8.Rows);
            var tq = (double)t / Math.Max(query8.Cols, query8.Rows);
            var best = Search(query8, tq, original8, kmax, range, step, (k, x, y) =>
            {
                // original scaled by tq / k: q * tq = o * tq / k - xy  =>  o = k * q + k * xy / tq
                var h = new Mat(3, 3, MatType.CV_64F, Scalar.All(0));
                h.Set(0, 0, k); h.Set(0, 2, k * x / tq); h.Set(1, 1, k); h.Set(1, 2, k * y / tq); h.Set(2, 2, 1.0);
                return h;
            });
            if (best is { } b) found.Add(b);
        }
        if (Environment.GetEnvironmentVariable("WM_DEBUG") == "1")
            Console.Error.WriteLine("search: " + string.Join(" ", found.Select(f => f.Score.ToString("F3"))));
        return found.OrderByDescending(f => f.Score).Select(f => f.H).ToList();
    }

    /// <summary>
    /// Slides <paramref name="small"/> (scaled by <paramref name="ts"/>) over <paramref name="big"/> scaled by
    /// ts / f for f from <paramref name="fmax"/> down to fmax / range; the best normalised correlation.
    /// </summary>
    private static (Mat H, double Score)? Search(Mat small, double ts, Mat big, double fmax, double range, double step,
        Func<double, int, int, Mat> toH)
    {
        if (fmax <= 0 || !double.IsFinite(fmax)) return null;
        using var tpl = ScaledF(small, ts);
        if (tpl.Cols < 8 || tpl.Rows < 8) return null;
        // The big picture once at the finest scale needed, then smaller from there.
        var finest = Math.Min(1.0, ts / (fmax / range));
        using var baseImg = ScaledF(big, finest);
        double bestScore = double.NegativeInfinity, bestF = 0;
        var bestLoc = new Point();
        using var scaled = new Mat();
        using var res = new Mat();
        for (var f = fmax; f >= fmax / range; f /= step)
        {
            var s = ts / f / finest;
            var size = new Size((int)Math.Round(baseImg.Cols * s), (int)Math.Round(baseImg.Rows * s));
            if (size.Width < tpl.Cols || size.Height < tpl.Rows) continue;
            if (size.Width > baseImg.Cols || size.Height > baseImg.Rows) continue;
            Cv2.Resize(baseImg, scaled, size, 0, 0, InterpolationFlags.Area);
            Cv2.MatchTemplate(scaled, tpl, res, TemplateMatchModes.CCoeffNormed);
            Cv2.MinMaxLoc(res, out _, out var max, out _, out var loc);
            if (max > bestScore) { bestScore = max; bestF = f; bestLoc = loc; }
        }
        if (bestF == 0) return null;
        return (toH(bestF, bestLoc.X, bestLoc.Y), bestScore);
    }

    /// <summary>Largest distance, in original pixels, between where two homographies' inverses put the original's corners.</summary>
    private static double CornerDistance(Mat a, Mat b, Size original)
    {
        using var ai = Inverse(a);
        using var bi = Inverse(b);
        var corners = new[] { new Point2d(0, 0), new Point2d(original.Width, 0), new Point2d(0, original.Height), new Point2d(original.Width, original.Height) };
        var pa = Cv2.PerspectiveTransform(corners, ai);
        var pb = Cv2.PerspectiveTransform(corners, bi);
        var d = 0.0;
        for (var i = 0; i < 4; i++) d = Math.Max(d, pa[i].DistanceTo(pb[i]));
        return d;
    }

    private static (List<Point2d> Src, List<Point2d> Dst) Matches(Mat q, bool flip, Feature2D det, NormTypes norm, KeyPoint[] kq, Mat dq, KeyPoint[] ko, Mat dO)
    {
        if (!flip) return RatioMatches(kq, dq, ko, dO, norm);
        using var qf = new Mat();
        using var dqf = new Mat();
        Cv2.Flip(q, qf, FlipMode.Y);
        det.DetectAndCompute(qf, null, out var kqf, dqf);
        return RatioMatches(kqf, dqf, ko, dO, norm);
    }

    /// <summary>
    /// Refines a query-to-original homography by maximising the enhanced correlation coefficient (ECC) between
    /// the original and the warped query, coarse to fine (original at a long side of 160, then 320 pixels).
    /// Needs only a rough start (a few pixels off at the coarse level) but no corners: it uses every pixel
    /// of the area both pictures share, so it registers smooth, striped and repetitive pictures precisely where
    /// feature matches are few or ambiguous. ECC is invariant to gain and offset (brightness, contrast).
    /// Affine unless the start has a clear perspective part. Returns null when it does not converge.
    /// </summary>
    private const int CoarseSide = 160, FineSide = 320;

    public static Mat? RefineEcc(Mat query8, Mat original8, Mat h, out double cc) => RefineEcc(query8, original8, h, [0.0], out cc);

    /// <summary>
    /// As <see cref="RefineEcc(Mat, Mat, Mat, out double)"/>, but the coarse level starts from <paramref name="h"/>
    /// turned about the query's middle by each of <paramref name="startDegrees"/>, and only the start that
    /// correlates best goes on to the fine level: ECC converges only from within about a degree on pictures
    /// with strong periodic texture (stripes), so a whole picture turned by an unknown small angle needs a
    /// coarse search.
    /// </summary>
    public static Mat? RefineEcc(Mat query8, Mat original8, Mat h, IReadOnlyList<double> startDegrees, out double cc)
    {
        cc = 0;
        var motion = PerspectiveAmount(h, original8.Size()) > 0.01 ? MotionTypes.Homography : MotionTypes.Affine;
        Mat? best = null;
        var bestCc = double.NegativeInfinity;
        foreach (var deg in startDegrees)
        {
            using var start = deg == 0 ? h.Clone() : Turned(h, query8.Size(), deg);
            var m = EccLevel(query8, original8, start, CoarseSide, motion, out var c);
            if (m is null) continue;
            if (c > bestCc) { best?.Dispose(); best = m; bestCc = c; }
            else m.Dispose();
        }
        if (best is null) return null;
        var fine = EccLevel(query8, original8, best, FineSide, motion, out cc);
        best.Dispose();
        return fine;
    }

    /// <summary>h after turning the query by <paramref name="degrees"/> about its middle (h * R).</summary>
    private static Mat Turned(Mat h, Size query, double degrees)
    {
        using var r2 = Cv2.GetRotationMatrix2D(new Point2f(query.Width / 2f, query.Height / 2f), degrees, 1.0);
        using var r = new Mat(3, 3, MatType.CV_64F, Scalar.All(0));
        for (var i = 0; i < 2; i++)
        for (var j = 0; j < 3; j++)
            r.Set(i, j, r2.At<double>(i, j));
        r.Set(2, 2, 1.0);
        return Mul(h, r);
    }

    /// <summary>
    /// Similarity transforms (rotation, uniform scale, shift; mirrored when <paramref name="h"/> is) built from
    /// each row of an affine <paramref name="h"/> alone, keeping where the query's middle lands. A picture that
    /// varies in one direction only (stripes) pins down only one row of a registration; ECC leaves the other
    /// free to drift (a shear or stretch the mark does not survive), and a copy is rarely sheared.
    /// </summary>
    public static List<Mat> SimilaritiesOf(Mat h, Size query)
    {
        var list = new List<Mat>();
        var h22 = h.At<double>(2, 2);
        if (Math.Abs(h22) < 1e-12) return list;
        double a11 = h.At<double>(0, 0) / h22, a12 = h.At<double>(0, 1) / h22, a21 = h.At<double>(1, 0) / h22, a22 = h.At<double>(1, 1) / h22;
        var mirrored = a11 * a22 - a12 * a21 < 0;
        var c = new[] { new Point2d(query.Width / 2.0, query.Height / 2.0) };
        var mid = Cv2.PerspectiveTransform(c, h)[0];
        foreach (var fromRow in new[] { 0, 1 })
        {
            double r0a, r0b, r1a, r1b;
            if (fromRow == 0) { r0a = a11; r0b = a12; (r1a, r1b) = mirrored ? (a12, -a11) : (-a12, a11); }
            else { r1a = a21; r1b = a22; (r0a, r0b) = mirrored ? (-a22, a21) : (a22, -a21); }
            var m = new Mat(3, 3, MatType.CV_64F, Scalar.All(0));
            m.Set(0, 0, r0a); m.Set(0, 1, r0b); m.Set(1, 0, r1a); m.Set(1, 1, r1b);
            m.Set(0, 2, mid.X - (r0a * c[0].X + r0b * c[0].Y));
            m.Set(1, 2, mid.Y - (r1a * c[0].X + r1b * c[0].Y));
            m.Set(2, 2, 1.0);
            list.Add(m);
        }
        return list;
    }

    /// <summary>How far the homography's perspective part moves the original's corners, relative (0 = affine).</summary>
    private static double PerspectiveAmount(Mat h, Size original)
    {
        var h22 = h.At<double>(2, 2);
        if (Math.Abs(h22) < 1e-12) return double.PositiveInfinity;
        // h maps query to original; its inverse's bottom row is what bends the query's corners.
        return Math.Abs(h.At<double>(2, 0) / h22) * original.Width + Math.Abs(h.At<double>(2, 1) / h22) * original.Height;
    }

    private static Mat? EccLevel(Mat query8, Mat original8, Mat h, int side, MotionTypes motion, out double cc)
    {
        cc = 0;
        var so = Math.Min(1.0, (double)side / Math.Max(original8.Cols, original8.Rows));
        // Query pixels per original pixel near the middle, so that both work images have about the same scale.
        var a = h.At<double>(0, 0) * h.At<double>(1, 1) - h.At<double>(0, 1) * h.At<double>(1, 0);
        var h22 = h.At<double>(2, 2);
        var k = Math.Sqrt(Math.Abs(a)) / Math.Abs(h22); // original pixels per query pixel
        if (!double.IsFinite(k) || k < 1e-3) return null;
        var sq = Math.Min(1.0, so * k);
        using var o = ScaledF(original8, so);
        using var q = ScaledF(query8, sq);
        if (o.Cols < 16 || o.Rows < 16 || q.Cols < 16 || q.Rows < 16) return null;
        using var soM = Diag(so);
        using var sqM = Diag(sq);
        using var sqInv = Diag(1.0 / sq);
        using var soInv = Diag(1.0 / so);
        // ECC's warp maps template (original) to input (query) coordinates; its mask is on the input: the part
        // of the query that shows the original (not a page around it, nor the corners a rotation fills).
        using var hq = Mul(h, sqInv);
        using var toO = Mul(soM, hq);
        using var w3 = Inverse(toO);
        using var onesO = new Mat(o.Size(), MatType.CV_8UC1, Scalar.All(255));
        using var mask = new Mat();
        Cv2.WarpPerspective(onesO, mask, w3, q.Size(), InterpolationFlags.Nearest, BorderTypes.Constant, Scalar.All(0));
        using (var kernel = Cv2.GetStructuringElement(MorphShapes.Rect, new Size(7, 7)))
            Cv2.Erode(mask, mask, kernel);
        if (Cv2.CountNonZero(mask) < 400) return null;
        Mat warp;
        if (motion == MotionTypes.Homography)
        {
            warp = new Mat();
            var d = w3.At<double>(2, 2);
            w3.ConvertTo(warp, MatType.CV_32F, 1.0 / d);
        }
        else
        {
            warp = new Mat(2, 3, MatType.CV_32F);
            var d = w3.At<double>(2, 2);
            for (var r = 0; r < 2; r++)
            for (var c = 0; c < 3; c++)
                warp.Set(r, c, (float)(w3.At<double>(r, c) / d));
        }
        try
        {
            cc = Cv2.FindTransformECC(o, q, warp, motion, new TermCriteria(CriteriaTypes.Count | CriteriaTypes.Eps, side <= CoarseSide ? 40 : 25, side <= CoarseSide ? 1e-4 : 1e-5), mask, 5);
        }
        catch (OpenCVException e)
        {
            if (Environment.GetEnvironmentVariable("WM_DEBUG") == "1") Console.Error.WriteLine("ecc: " + e.Message);
            warp.Dispose();
            return null;
        }
        using var w = new Mat(3, 3, MatType.CV_64F, Scalar.All(0));
        var warpRows = warp.Rows;
        for (var r = 0; r < warpRows; r++)
        for (var c = 0; c < 3; c++)
            w.Set(r, c, (double)warp.At<float>(r, c));
        if (warpRows == 2) w.Set(2, 2, 1.0);
        warp.Dispose();
        // H = So^-1 * W^-1 * Sq
        using var wi = Inverse(w);
        using var t = Mul(wi, sqM);
        return Mul(soInv, t);
    }

    private static Mat Mul(Mat a, Mat b)
    {
        var r = new Mat();
        Cv2.Gemm(a, b, 1, new Mat(), 0, r);
        return r;
    }

    private static Mat Inverse(Mat a)
    {
        var r = new Mat();
        Cv2.Invert(a, r, DecompTypes.LU);
        return r;
    }

    private static Mat ScaledF(Mat g8, double s)
    {
        var m = new Mat();
        if (s < 1) Cv2.Resize(g8, m, new Size(Math.Max(1, (int)Math.Round(g8.Cols * s)), Math.Max(1, (int)Math.Round(g8.Rows * s))), 0, 0, InterpolationFlags.Area);
        else g8.CopyTo(m);
        m.ConvertTo(m, MatType.CV_32F);
        return m;
    }

    /// <summary>Downscaled to at most 1000 px and locally contrast-equalised (finds corners in soft pictures).</summary>
    private static Mat Prepare(Mat g, int side, out double s)
    {
        using var m = Scaled(g, side, out s);
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

    private static Mat Scaled(Mat g, int side, out double s)
    {
        var longSide = Math.Max(g.Cols, g.Rows);
        s = longSide > side ? (double)side / longSide : 1.0;
        var m = new Mat();
        if (s < 1) Cv2.Resize(g, m, new Size(0, 0), s, s, InterpolationFlags.Area);
        else g.CopyTo(m);
        return m;
    }

    private static (List<Point2d> Src, List<Point2d> Dst) RatioMatches(KeyPoint[] kq, Mat dq, KeyPoint[] ko, Mat dO, NormTypes norm)
    {
        var src = new List<Point2d>();
        var dst = new List<Point2d>();
        if (kq.Length < 8 || dq.Empty() || dO.Empty()) return (src, dst);
        using var matcher = new BFMatcher(norm);
        var knn = matcher.KnnMatch(dq, dO, 2);
        foreach (var m in knn)
        {
            if (m.Length < 2 || m[0].Distance >= 0.8 * m[1].Distance) continue;
            var a = kq[m[0].QueryIdx].Pt;
            var b = ko[m[0].TrainIdx].Pt;
            src.Add(new Point2d(a.X, a.Y));
            dst.Add(new Point2d(b.X, b.Y));
        }
        return (src, dst);
    }

    private static (Mat? H, int Inliers) FitHomography(List<Point2d> src, List<Point2d> dst)
    {
        using var mask = new Mat();
        Cv2.SetTheRNG(0x5EED); // RANSAC draws from OpenCV's per-thread generator: same input, same answer
        var h = Cv2.FindHomography(src, dst, HomographyMethods.Ransac, 3.0, mask, 4000);
        if (h.Empty()) { h.Dispose(); return (null, 0); }
        var inliers = Cv2.CountNonZero(mask);
        if (inliers < 10) { h.Dispose(); return (null, inliers); }
        return (h, inliers);
    }

    private static (Mat? H, int Inliers) FitSimilarity(List<Point2d> src, List<Point2d> dst)
    {
        using var s = Mat.FromArray(src.Select(p => new Point2f((float)p.X, (float)p.Y)).ToArray());
        using var d = Mat.FromArray(dst.Select(p => new Point2f((float)p.X, (float)p.Y)).ToArray());
        using var mask = new Mat();
        Cv2.SetTheRNG(0x5EED);
        using var a = Cv2.EstimateAffinePartial2D(s, d, mask, RobustEstimationAlgorithms.RANSAC, 3.0, 5000, 0.995, 10);
        if (a is null || a.Empty()) return (null, 0);
        var inliers = Cv2.CountNonZero(mask);
        if (inliers < 8) return (null, inliers);
        var h = new Mat(3, 3, MatType.CV_64F, Scalar.All(0));
        for (var r = 0; r < 2; r++)
        for (var c = 0; c < 3; c++)
            h.Set(r, c, a.At<double>(r, c));
        h.Set(2, 2, 1.0);
        return (h, inliers);
    }
}
