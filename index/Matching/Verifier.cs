using LeakHunter.Index.Hashing;
using LeakHunter.Index.Imaging;
using OpenCvSharp;

namespace LeakHunter.Index.Matching;

/// <summary>
/// A query brought to the matching frame: its features (those of its mirror image computed when first
/// needed: only a mirrored candidate needs them), whole-picture hashes, thumbnails.
/// </summary>
internal sealed class QueryView : IDisposable
{
    private readonly Mat _featureGray;
    private readonly Lazy<FeatureSet> _mirrorFeatures;

    private QueryView(int width, int height, double scaleToFull, FeatureSet features, Mat featureGray, KeyPoint[] keypoints, Hash256 pdq, Hash256 pdqMirror, Mat thumbnail)
    {
        Thumbnail = thumbnail;
        ThumbnailScale = (double)thumbnail.Width / width;
        MirrorThumbnail = new Mat();
        Cv2.Flip(thumbnail, MirrorThumbnail, FlipMode.Y);
        Width = width;
        Height = height;
        ScaleToFull = scaleToFull;
        Features = features;
        _featureGray = featureGray;
        _mirrorFeatures = new Lazy<FeatureSet>(() => FeatureSet.DescribeMirror(_featureGray, keypoints, CopyMatcher.QueryFeatures, CopyMatcher.FastThreshold),
            LazyThreadSafetyMode.None);
        Pdq = pdq;
        PdqMirror = pdqMirror;
    }

    public int Width { get; }
    public int Height { get; }
    public double ScaleToFull { get; }
    public FeatureSet Features { get; }
    public FeatureSet MirrorFeatures => _mirrorFeatures.Value;
    public Hash256 Pdq { get; }
    public Hash256 PdqMirror { get; }

    /// <summary>The picture inside a plain border, if the query has one (else the whole frame), in the feature frame.</summary>
    public Rect Content { get; private init; }

    /// <summary>Gray thumbnails of the query and its mirror for <see cref="PixelAgreement"/>, with their scale from the feature frame.</summary>
    public Mat Thumbnail { get; }
    public Mat MirrorThumbnail { get; }
    public double ThumbnailScale { get; }

    /// <summary>
    /// Query thumbnails are larger than originals': a crop of a quarter of an original still has enough pixels.
    /// The query's PDQ comes from it, at the size the originals' window hashes are computed on.
    /// </summary>
    private const int ThumbnailLongSide = CopyMatcher.WindowHashLongSide;

    /// <summary>The view of a decoded query, brought down to <see cref="CopyMatcher.QueryLongSide"/> or up to <paramref name="minLongSide"/>.</summary>
    public static QueryView Create(DecodedImage decoded, int minLongSide)
    {
        using var norm = CopyMatcher.Resize(decoded.Bgr, CopyMatcher.QueryLongSide, minLongSide);
        using var plainGray = CopyMatcher.Gray(norm); // one conversion for the features and the thumbnail
        var gray = CopyMatcher.Equalised(plainGray); // kept by the view for its mirror's features
        try
        {
            var features = FeatureSet.DetectQuery(gray, CopyMatcher.QueryFeatures, CopyMatcher.FastThreshold, CopyMatcher.QueryCellShare, out var keypoints);
            var thumbnail = PixelAgreement.Thumbnail(plainGray, ThumbnailLongSide);
            // PDQ as the originals' windows get it, from a small copy (PDQ reduces to 64x64 anyway; hashing the equalised
            // full-size picture cost more than feature detection and matched worse): the gray thumbnail has their size.
            var (pdq, pdqM) = Hashing.Pdq.ComputeWithMirror(thumbnail);
            return new QueryView(norm.Width, norm.Height, (double)decoded.FullWidth / norm.Width, features, gray, keypoints, pdq.Hash, pdqM, thumbnail)
            {
                Content = PlainBorder.Inside(norm),
            };
        }
        catch
        {
            gray.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        _featureGray.Dispose();
        Thumbnail.Dispose();
        MirrorThumbnail.Dispose();
    }
}

/// <summary>Geometric evidence that a query shows (part of) an original.</summary>
/// <remarks>Coverage and Cells: see <see cref="Verifier.Spread"/>; Spread: whether they pass <see cref="Verifier.MinCoverage"/>.</remarks>
internal sealed record Verification(double[] Homography, int Inliers, int DistinctInliers, bool Mirror, double Coverage, int Cells)
{
    public bool Spread => Coverage >= Verifier.MinCoverage;

    /// <summary>Cells whose pixels agree, of <see cref="AgreementCells"/> judged (visible in the query, textured in the original); see <see cref="PixelAgreement"/>.</summary>
    public int AgreeingCells { get; init; }
    public int AgreementCells { get; init; }

    /// <summary>
    /// When the evidence is the whole frame's pixels (<see cref="Verifier.SameFrame"/>) rather than inliers: its
    /// false-match probability (<see cref="MatchCalibration.SameFrameProbability"/>); else null.
    /// </summary>
    public double? FrameFalseMatchProbability { get; init; }

    /// <summary>Share of the judged cells that agree; null when not measured or undecidable.</summary>
    public double? Agreement => AgreementCells == 0 ? null : (double)AgreeingCells / AgreementCells;

    /// <summary>
    /// Whether the evidence covers the picture rather than a shared detail: the inliers spread over the
    /// original's detail, or the pixels agree over most of what the query shows (a sticker may hide the
    /// part with most corners); and in either case the pixels do not contradict it (two photos sharing a
    /// caption agree on the caption's cells and on nothing else). Whole-frame evidence is judged by its own calibration,
    /// which already weighs the cells that disagree.
    /// </summary>
    public bool Supported => FrameFalseMatchProbability is not null
        || (Agreement is not < PixelAgreement.Contradiction && (Spread || Agreement >= PixelAgreement.Confirmation));
}

/// <summary>Descriptor matching, RANSAC homography and plausibility checks.</summary>
internal static class Verifier
{

    private const int MaxDescriptorDistance = 64;
    private const float Ratio = 0.9f;
    /// <summary>A match this close is kept even when the picture repeats the pattern elsewhere.</summary>
    private const int AbsoluteDistance = 30;
    private const double ReprojectionThreshold = 6.0;

    public static Verification? Verify(FeatureSet q, int qW, int qH, OriginalEntry o)
    {
        var of = o.Features;
        if (q.Count < 8 || of.Count < 8)
            return null;
        var bestIdx = new int[q.Count];
        var bestDist = new int[q.Count];
        var secondDist = new int[q.Count];
        HammingKnn.Match(q, of, 4f, bestIdx, bestDist, secondDist);
        var src = new List<Point2f>();
        var dst = new List<Point2f>();
        for (int i = 0; i < q.Count; i++)
        {
            // The second-best that counts is the best match elsewhere in the picture: ORB's pyramid
            // often yields the same corner twice at nearly the same place.
            if (bestIdx[i] < 0 || bestDist[i] > MaxDescriptorDistance)
                continue;
            if (bestDist[i] >= Ratio * secondDist[i] && bestDist[i] > AbsoluteDistance)
                continue;
            src.Add(new Point2f(q.X[i], q.Y[i]));
            dst.Add(new Point2f(of.X[bestIdx[i]], of.Y[bestIdx[i]]));
        }
        if (src.Count < 8)
            return null;

        var est = Ransac.Estimate(src, dst, ReprojectionThreshold);
        if (est is null)
            return null;
        var (hv, mask) = est.Value;
        if (!Plausible(hv, qW, qH, o.NormWidth, o.NormHeight))
            return null;

        int inliers = 0;
        var distinctQ = new HashSet<(int, int)>();
        var distinctO = new HashSet<(int, int)>();
        for (int i = 0; i < mask.Length; i++)
        {
            if (!mask[i]) continue;
            inliers++;
            distinctQ.Add(((int)(src[i].X / 4), (int)(src[i].Y / 4)));
            distinctO.Add(((int)(dst[i].X / 4), (int)(dst[i].Y / 4)));
        }
        int distinct = Math.Min(distinctQ.Count, distinctO.Count);
        var pts = new List<Point2f>(inliers);
        for (int i = 0; i < mask.Length; i++)
            if (mask[i]) pts.Add(dst[i]);
        var (coverage, cells) = Spread(hv, qW, qH, o, pts);
        return new Verification(hv, inliers, distinct, false, coverage, cells);
    }

    /// <summary>Widest stretch (ratio of aspect ratios) at which a query may show its original's whole frame; as <see cref="Plausible"/>.</summary>
    private const double MaxFrameStretch = 2.5;

    /// <summary>
    /// Evidence without local features for a query that shows the original's whole frame (recompressed,
    /// resized, stretched, recoloured, blurred, captioned, framed in a plain border): the query's picture
    /// (inside its border, if it has one) is scaled onto the original and its pixels are compared cell by
    /// cell (<see cref="PixelAgreement"/>). Pictures with no distinct corners (stripes, fine repetitive
    /// texture) yield too few RANSAC inliers, yet agree with their copies nearly everywhere. Nothing is
    /// fitted, so an unrelated picture agrees only as far as its layout happens to resemble the original's
    /// (see <see cref="MatchCalibration.SameFrameProbability"/>). The best of the whole query and its
    /// content inside a border; null when neither gives a verdict.
    /// </summary>
    public static Verification? SameFrame(bool mirror, QueryView q, OriginalEntry o)
    {
        if (o.ThumbnailPixels is not { } originalThumb)
            return null;
        var whole = new Rect(0, 0, q.Width, q.Height);
        var frames = q.Content == whole ? new[] { whole } : [whole, q.Content];
        Verification? best = null;
        foreach (var content in frames)
        {
            var shown = mirror ? new Rect(q.Width - content.Right, content.Y, content.Width, content.Height) : content;
            double stretch = (double)shown.Width / shown.Height / ((double)o.NormWidth / o.NormHeight);
            if (stretch > MaxFrameStretch || stretch < 1 / MaxFrameStretch)
                continue;
            double sx = (double)o.NormWidth / shown.Width, sy = (double)o.NormHeight / shown.Height;
            var onto = new double[] { sx, 0, -shown.X * sx, 0, sy, -shown.Y * sy, 0, 0, 1 };
            var cells = PixelAgreement.Cells(mirror ? q.MirrorThumbnail : q.Thumbnail, originalThumb, ToThumbnails(onto, q, o), removeRamps: true);
            var (agreeing, judged) = PixelAgreement.Tally(cells);
            var frame = new Verification(onto, 0, 0, mirror, 0, 0)
            {
                AgreeingCells = agreeing,
                AgreementCells = judged,
                FrameFalseMatchProbability = MatchCalibration.SameFrameProbability(cells),
            };
            if (best is null || frame.FrameFalseMatchProbability < best.FrameFalseMatchProbability)
                best = frame;
        }
        return best;
    }

    /// <summary>Pixel agreement of a verification (query side chosen by mirror), or null without an original thumbnail.</summary>
    public static (int Agreeing, int Judged)? Agreement(Verification v, bool mirror, QueryView q, OriginalEntry o)
    {
        if (o.ThumbnailPixels is not { } originalThumb)
            return null;
        return PixelAgreement.Measure(mirror ? q.MirrorThumbnail : q.Thumbnail, originalThumb, ToThumbnails(v.Homography, q, o));
    }

    /// <summary>A feature-frame homography (query to normalised original) as one between their thumbnails.</summary>
    private static double[] ToThumbnails(double[] homography, QueryView q, OriginalEntry o)
    {
        double so = (double)o.ThumbnailWidth / o.NormWidth, sq = q.ThumbnailScale;
        return Mul(new double[] { so, 0, 0, 0, so, 0, 0, 0, 1 }, Mul(homography, new double[] { 1 / sq, 0, 0, 0, 1 / sq, 0, 0, 0, 1 }));
    }

    /// <summary>
    /// A copy's homography preserves orientation (mirrors are handled by flipping the query),
    /// keeps scale within 1/16..16, stretch within 3:1, and has mild perspective only.
    /// </summary>
    internal static bool Plausible(double[] h, int qW, int qH, int oW, int oH)
    {
        if (Math.Abs(h[8]) < 1e-12)
            return false;
        var n = h.Select(v => v / h[8]).ToArray();
        double a = n[0], b = n[1], c = n[3], d = n[4];
        double det = a * d - b * c;
        if (det <= 0)
            return false;
        double scale = Math.Sqrt(det);
        if (scale < 1.0 / 16 || scale > 16)
            return false;
        // singular values of the linear part
        double s1sq, s2sq;
        {
            double e = a * a + b * b + c * c + d * d;
            double f = Math.Sqrt(Math.Max(0, e * e - 4 * det * det));
            s1sq = (e + f) / 2;
            s2sq = (e - f) / 2;
        }
        if (s2sq <= 0 || Math.Sqrt(s1sq / s2sq) > 3.0)
            return false;
        // perspective: w at the query corners stays positive and within a factor 1.6
        double wMin = double.MaxValue, wMax = double.MinValue;
        foreach (var (x, y) in new[] { (0.0, 0.0), (qW, 0.0), (qW, (double)qH), (0.0, qH) })
        {
            double w = n[6] * x + n[7] * y + 1;
            wMin = Math.Min(wMin, w);
            wMax = Math.Max(wMax, w);
        }
        if (wMin <= 0 || wMax / wMin > 1.6)
            return false;
        // the same bounds hold locally everywhere on the query, not only at its origin: a
        // homography fitted to points on a line (a caption) can squash the rest of the picture
        foreach (var (x, y) in new[] { (0.0, 0.0), (qW, 0.0), (qW, (double)qH), (0.0, qH), (qW / 2.0, qH / 2.0) })
        {
            double w = n[6] * x + n[7] * y + 1;
            double u = (n[0] * x + n[1] * y + n[2]) / w, v = (n[3] * x + n[4] * y + n[5]) / w;
            double ja = (n[0] - u * n[6]) / w, jb = (n[1] - u * n[7]) / w, jc = (n[3] - v * n[6]) / w, jd = (n[4] - v * n[7]) / w;
            double jdet = ja * jd - jb * jc;
            if (jdet <= 0 || Math.Sqrt(jdet) < 1.0 / 16 || Math.Sqrt(jdet) > 16)
                return false;
            double je = ja * ja + jb * jb + jc * jc + jd * jd;
            double jf = Math.Sqrt(Math.Max(0, je * je - 4 * jdet * jdet));
            if (je - jf <= 0 || Math.Sqrt((je + jf) / (je - jf)) > 3.0)
                return false;
        }
        // the query must overlap the original substantially
        var corners = new[] { (0.0, 0.0), (qW, 0.0), (qW, (double)qH), (0.0, qH) }.Select(p => Apply(n, p.Item1, p.Item2)).ToArray();
        double minX = corners.Min(p => p.X), maxX = corners.Max(p => p.X), minY = corners.Min(p => p.Y), maxY = corners.Max(p => p.Y);
        double ix = Math.Min(maxX, oW) - Math.Max(minX, 0), iy = Math.Min(maxY, oH) - Math.Max(minY, 0);
        if (ix <= 0 || iy <= 0)
            return false;
        return ix * iy >= 0.02 * oW * oH;
    }

    /// <summary>
    /// How widely the inliers spread over the region of the original the query shows (in the
    /// original's frame): a <see cref="SpreadGrid"/> grid is laid over the region's bounding box, a cell
    /// is supported when it holds at least <see cref="MinPerCell"/> distinct inliers, and the coverage
    /// is the share of the original's features inside the region that lie in supported cells (so
    /// detail-free parts of the original, where no copy can show inliers, weigh little).
    /// Returns the coverage and the number of supported cells.
    /// </summary>
    internal static (double Coverage, int Cells) Spread(double[] h, int qW, int qH, OriginalEntry o, List<Point2f> inliers)
    {
        var quad = new[] { (0.0, 0.0), (qW, 0.0), (qW, (double)qH), (0.0, qH) }.Select(p => Apply(h, p.Item1, p.Item2)).ToList();
        var region = ClipToRect(quad, o.NormWidth, o.NormHeight);
        if (region.Count < 3 || inliers.Count < 3)
            return (0, 0);
        double minX = region.Min(p => p.X), maxX = region.Max(p => p.X), minY = region.Min(p => p.Y), maxY = region.Max(p => p.Y);
        int grid = SpreadGrid;
        var occupied = new bool[grid * grid];
        int Cell(double x, double y)
        {
            int cx = Math.Clamp((int)((x - minX) * grid / Math.Max(1e-6, maxX - minX)), 0, grid - 1);
            int cy = Math.Clamp((int)((y - minY) * grid / Math.Max(1e-6, maxY - minY)), 0, grid - 1);
            return cy * grid + cx;
        }
        int cells = 0;
        var counts = new int[grid * grid];
        var seenBins = new HashSet<(int, int)>();
        foreach (var p in inliers)
        {
            if (!seenBins.Add(((int)(p.X / 4), (int)(p.Y / 4))))
                continue; // distinct inliers only
            int c = Cell(p.X, p.Y);
            if (++counts[c] == MinPerCell) { occupied[c] = true; cells++; }
        }
        var of = o.Features;
        int inside = 0, covered = 0;
        for (int i = 0; i < of.Count; i++)
        {
            if (!Inside(region, of.X[i], of.Y[i]))
                continue;
            inside++;
            if (occupied[Cell(of.X[i], of.Y[i])]) covered++;
        }
        return (inside == 0 ? 0 : (double)covered / inside, cells);
    }

    /// <summary>Grid (per side) laid over the region of the original the query shows.</summary>
    internal const int SpreadGrid = 4;
    /// <summary>Distinct inliers a cell needs to count as supported: one or two can be a coincidence or one corner seen twice.</summary>
    internal const int MinPerCell = 3;
    /// <summary>
    /// Smallest share of the original's features (inside the region the query shows) that must lie in
    /// supported cells. A caption or logo that two different photos share covers a small part of a
    /// photo's detail (well under a third); a copy shows most of it, and even a copy under a large
    /// sticker shows more than that.
    /// </summary>
    internal const double MinCoverage = 0.3;

    private static bool Inside(List<(double X, double Y)> poly, double x, double y)
    {
        // convex polygon, either orientation
        int sign = 0;
        for (int i = 0; i < poly.Count; i++)
        {
            var (x0, y0) = poly[i];
            var (x1, y1) = poly[(i + 1) % poly.Count];
            double cr = (x1 - x0) * (y - y0) - (y1 - y0) * (x - x0);
            int s = cr > 1e-9 ? 1 : cr < -1e-9 ? -1 : 0;
            if (s == 0) continue;
            if (sign == 0) sign = s;
            else if (s != sign) return false;
        }
        return true;
    }

    private static double PolygonArea(IReadOnlyList<(double X, double Y)> poly)
    {
        double a = 0;
        for (int i = 0; i < poly.Count; i++)
        {
            var (x0, y0) = poly[i];
            var (x1, y1) = poly[(i + 1) % poly.Count];
            a += x0 * y1 - x1 * y0;
        }
        return a / 2;
    }

    /// <summary>Sutherland-Hodgman clip of a convex polygon to [0, w] x [0, h].</summary>
    private static List<(double X, double Y)> ClipToRect(List<(double X, double Y)> poly, double w, double h)
    {
        var edges = new (Func<(double X, double Y), double> Dist, int Axis, double Value)[]
        {
            (p => p.X, 0, 0), (p => w - p.X, 0, w), (p => p.Y, 1, 0), (p => h - p.Y, 1, h),
        };
        foreach (var (dist, _, _) in edges)
        {
            if (poly.Count == 0)
                break;
            var output = new List<(double X, double Y)>();
            for (int i = 0; i < poly.Count; i++)
            {
                var cur = poly[i];
                var prev = poly[(i + poly.Count - 1) % poly.Count];
                double dc = dist(cur), dp = dist(prev);
                if (dc >= 0)
                {
                    if (dp < 0)
                        output.Add(Lerp(prev, cur, dp / (dp - dc)));
                    output.Add(cur);
                }
                else if (dp >= 0)
                {
                    output.Add(Lerp(prev, cur, dp / (dp - dc)));
                }
            }
            poly = output;
        }
        return poly;
    }

    private static (double X, double Y) Lerp((double X, double Y) a, (double X, double Y) b, double t) =>
        (a.X + (b.X - a.X) * t, a.Y + (b.Y - a.Y) * t);

    internal static (double X, double Y) Apply(double[] h, double x, double y)
    {
        double w = h[6] * x + h[7] * y + h[8];
        return ((h[0] * x + h[1] * y + h[2]) / w, (h[3] * x + h[4] * y + h[5]) / w);
    }

    internal static double[] Mul(double[] p, double[] q)
    {
        var r = new double[9];
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 3; j++)
                r[i * 3 + j] = p[i * 3] * q[j] + p[i * 3 + 1] * q[3 + j] + p[i * 3 + 2] * q[6 + j];
        return r;
    }

    /// <summary>
    /// Full-resolution homography (query pixels to original pixels) and the transform: the crop
    /// rectangle of the original visible in the query, the query's scale relative to the original,
    /// its rotation in degrees counter-clockwise as seen on screen, and whether it is mirrored.
    /// </summary>
    public static (MatchTransform, double[]) Describe(Verification v, QueryView q, DecodedImage decoded, OriginalEntry o)
    {
        // core: feature frame of the (possibly mirrored) query -> normalised original
        double qs = q.ScaleToFull, os = o.NormScale;
        var toOrigFull = new double[] { os, 0, 0, 0, os, 0, 0, 0, 1 };
        var fromQueryFull = new double[] { 1 / qs, 0, 0, 0, 1 / qs, 0, 0, 0, 1 };
        var core = Mul(toOrigFull, Mul(v.Homography, fromQueryFull)); // mirrored-query full px -> original full px
        double[] full = core;
        if (v.Mirror)
        {
            double fw = decoded.FullWidth;
            var flip = new double[] { -1, 0, fw, 0, 1, 0, 0, 0, 1 };
            full = Mul(core, flip);
        }
        full = full.Select(x => x / full[8]).ToArray();
        var cn = core.Select(x => x / core[8]).ToArray();
        double a = cn[0], b = cn[1], c = cn[3], d = cn[4];
        double det = a * d - b * c;
        double scale = det > 0 ? 1.0 / Math.Sqrt(det) : 0;
        double rotation = Math.Atan2(c - b, a + d) * 180 / Math.PI;
        if (v.Mirror) rotation = -rotation;

        double qw = decoded.FullWidth, qh = decoded.FullHeight;
        var corners = new[] { (0.0, 0.0), (qw, 0.0), (qw, qh), (0.0, qh) }.Select(p => Apply(full, p.Item1, p.Item2)).ToArray();
        int x0 = (int)Math.Round(Math.Clamp(corners.Min(p => p.X), 0, o.Width));
        int y0 = (int)Math.Round(Math.Clamp(corners.Min(p => p.Y), 0, o.Height));
        int x1 = (int)Math.Round(Math.Clamp(corners.Max(p => p.X), 0, o.Width));
        int y1 = (int)Math.Round(Math.Clamp(corners.Max(p => p.Y), 0, o.Height));
        var transform = new MatchTransform(v.Mirror, Math.Round(rotation, 2), Math.Round(scale, 4), [x0, y0, x1 - x0, y1 - y0]);
        return (transform, full);
    }
}
