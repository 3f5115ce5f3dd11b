using LeakHunter.Index.Embedding;
using LeakHunter.Index.Matching;
using LeakHunter.Index.Vectors;
using OpenCvSharp;
using Verdict = LeakHunter.Index.Matching.PixelAgreement.CellVerdict;

namespace LeakHunter.Index.Tests;

/// <summary>
/// Whole-frame evidence (<see cref="Verifier.SameFrame"/>): its calibration
/// (<see cref="MatchCalibration.SameFrameProbability"/>), the plain-border finder, and the matcher on pictures
/// without corners (stripes, soft blobs), where only the whole frame's pixels can tell a copy from an impostor.
/// <para>The end-to-end tests run the matcher as the node does, with the embedding model as a source of
/// candidates: pictures without corners get no descriptor votes, and their PDQ hashes are unstable (the
/// stripes' copy is 98 bits from its original, beyond the 80 the hash candidates allow), so without the
/// model the original is never even compared.</para>
/// </summary>
public sealed class WholeFrameEvidenceTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "lh-wholeframe-" + Guid.NewGuid().ToString("N"));
    private readonly List<IDisposable> _owned = [];

    /// <summary>
    /// The shortcut that skips warping the "shown" mask must be right every time it is taken: for whole-frame
    /// comparisons (a query's content rectangle scaled onto the original's thumbnail, as SameFrame does) and for
    /// random affine maps, whenever ShowsAll says the query covers the original, the warped mask is all 255.
    /// Most whole-frame maps take the shortcut; a map that leaves the query does not.
    /// </summary>
    [Fact]
    public void Mask_shortcut_is_taken_only_where_the_warped_mask_is_full()
    {
        var rng = new Random(17);
        int shortcuts = 0, trials = 0;
        for (int i = 0; i < 400; i++)
        {
            var query = new Size(rng.Next(20, 257), rng.Next(20, 257));
            var original = new Size(rng.Next(20, 129), rng.Next(20, 129));
            double[] map;
            if (i % 2 == 0)
            {
                // A content rectangle of the query (a border of 0-10 %) stretched onto the whole original.
                int left = rng.Next(0, query.Width / 10 + 1), top = rng.Next(0, query.Height / 10 + 1);
                int width = query.Width - left - rng.Next(0, query.Width / 10 + 1), height = query.Height - top - rng.Next(0, query.Height / 10 + 1);
                double sx = (double)original.Width / width, sy = (double)original.Height / height;
                map = [sx, 0, -left * sx, 0, sy, -top * sy, 0, 0, 1];
            }
            else
            {
                double scale = 0.3 + rng.NextDouble(), angle = rng.NextDouble() * 0.2 - 0.1;
                map = [scale * Math.Cos(angle), -scale * Math.Sin(angle), rng.NextDouble() * 20 - 10,
                       scale * Math.Sin(angle), scale * Math.Cos(angle), rng.NextDouble() * 20 - 10, 0, 0, 1];
            }
            trials++;
            if (!PixelAgreement.ShowsAll(map, query, original))
                continue;
            shortcuts++;
            Assert.All(PixelAgreement.ShownMask(map, query, original), b => Assert.Equal(255, b));
        }
        Assert.InRange(shortcuts, trials / 4, trials - 1);
    }

    /// <summary>A new matcher with one original registered as "stripes" (seed 4001); the picture is disposed with the test.</summary>
    private (CopyMatcher Matcher, Mat Original) MatcherWithStripes()
    {
        var matcher = NewMatcher();
        var original = Stripes(4001);
        _owned.Add(original);
        matcher.Register("stripes", TestImages.Png(original));
        return (matcher, original);
    }

    /// <summary>A matcher with the default options and its own (embedded, temporary) vector index.</summary>
    private CopyMatcher NewMatcher()
    {
        var embedder = OnnxEmbedder.Shared(new EmbedderOptions { Manifest = TestData.DefaultManifest() });
        var index = EmbeddedVectorIndex.Open(Path.Combine(_dir, $"vectors{_owned.Count}"), new VectorIndexOptions { Dimension = embedder.Dimension, Fsync = false });
        var candidates = new EmbeddingCandidates(embedder, index);
        _owned.Add(candidates);
        var matcher = new CopyMatcher(new MatcherOptions(), null, candidates);
        _owned.Add(matcher);
        return matcher;
    }

    public void Dispose()
    {
        for (int i = _owned.Count - 1; i >= 0; i--)
            _owned[i].Dispose();
        if (Directory.Exists(_dir))
            Directory.Delete(_dir, recursive: true);
    }

    private const double Target = 1e-6; // MatcherOptions.TargetFalseMatchRate by default
    private const double Chance = MatchCalibration.ChanceSameFrameCellAgreement; // 0.35

    /// <summary>Rectangles of at most 36 cells on an 8x8 grid: every one is a chance to explain disagreement as a sticker.</summary>
    private const int RectanglesTried = 1261;

    // ---------------------------------------------------------------- calibration

    /// <summary>64 verdicts, row by row (index = 8 y + x), from a function of the cell.</summary>
    private static Verdict[] Cells(Func<int, int, Verdict> verdict) =>
        Enumerable.Range(0, 64).Select(i => verdict(i % 8, i / 8)).ToArray();

    /// <summary>Every cell agrees except those whose index is in <paramref name="differing"/>.</summary>
    private static Verdict[] AllAgreeExcept(IEnumerable<int> differing)
    {
        var set = differing.ToHashSet();
        return Cells((x, y) => set.Contains(8 * y + x) ? Verdict.Differs : Verdict.Agrees);
    }

    private static readonly int[] EveryThird = Enumerable.Range(0, 64).Where(i => i % 3 == 0).ToArray(); // 22 cells

    [Fact]
    public void WholeFrame_calibration_rectangles_tried_are_1261()
    {
        // The sticker branch multiplies by the number of rectangles of at most 36 cells on the 8x8 grid; the
        // tests below rely on that count, so it is checked independently of the matcher's own loop.
        int count = 0;
        for (int w = 1; w <= 8; w++)
            for (int h = 1; h <= 8; h++)
                if (w * h <= MatchCalibration.MaxOccluderCells)
                    count += (9 - w) * (9 - h);
        Assert.Equal(RectanglesTried, count);
        // 24 of 24 cells beside an empty (unjudged) rectangle: exactly 1261 * 0.35^24, nothing else can be smaller
        var cells = Cells((x, y) => y < 3 ? Verdict.Agrees : Verdict.Unjudged);
        Assert.Equal(RectanglesTried * Math.Pow(Chance, 24), MatchCalibration.SameFrameProbability(cells), 1e-12);
    }

    [Fact]
    public void WholeFrame_calibration_accepts_every_cell_agreeing()
    {
        // whole frame: P(X >= 64), X ~ B(64, 0.35) = 0.35^64 = 6.6e-30
        double p = MatchCalibration.SameFrameProbability(Cells((_, _) => Verdict.Agrees));
        Assert.Equal(Math.Pow(Chance, 64), p, 1e-40);
        Assert.True(p <= Target);
    }

    [Fact]
    public void WholeFrame_calibration_accepts_a_compact_sticker_but_not_the_same_disagreement_scattered()
    {
        // A 5x5 block of differing cells (25), the 39 others agree. Over the whole frame 39 of 64 is
        // P(X >= 39) = 2.07e-5 (not enough), but beside the 5x5 rectangle 39 of 39 agree:
        // 1261 * 0.35^39 = 2.1e-15.
        var sticker = Cells((x, y) => x is >= 1 and < 6 && y is >= 2 and < 7 ? Verdict.Differs : Verdict.Agrees);
        Assert.Equal(25, sticker.Count(c => c == Verdict.Differs));
        double pSticker = MatchCalibration.SameFrameProbability(sticker);
        Assert.True(pSticker <= Target, $"sticker: p = {pSticker:g3}");
        Assert.Equal(RectanglesTried * Math.Pow(Chance, 39), pSticker, 1e-20);

        // The same 25 differing cells scattered (every third cell, plus cells 13, 35, 50): no rectangle of at
        // most 36 cells gathers enough of them (best beside-sticker value 8.9e-3), so the whole frame decides:
        // P(X >= 39 | n = 64) = 2.07e-5 > 1e-6.
        var scattered = AllAgreeExcept(EveryThird.Concat([13, 35, 50]));
        Assert.Equal(25, scattered.Count(c => c == Verdict.Differs));
        double pScattered = MatchCalibration.SameFrameProbability(scattered);
        Assert.True(pScattered > Target, $"scattered: p = {pScattered:g3}");
        Assert.Equal(MatchCalibration.BinomialTail(64, 39, Chance), pScattered, 1e-12);
        Assert.InRange(pScattered, 2.0e-5, 2.2e-5);
    }

    [Fact]
    public void WholeFrame_calibration_whole_frame_branch_takes_42_of_64_scattered()
    {
        // Scattered disagreement: only the whole-frame branch can accept. At chance 0.35 per cell,
        // P(X >= 42 | 64) = 5.97e-7 <= 1e-6 but P(X >= 41 | 64) = 2.08e-6 > 1e-6: the threshold is 42 of 64
        // (66 %). Every third cell differing (22 cells) is therefore still accepted; one more scattered
        // differing cell (35) is not.
        double p42 = MatchCalibration.SameFrameProbability(AllAgreeExcept(EveryThird));
        Assert.Equal(MatchCalibration.BinomialTail(64, 42, Chance), p42, 1e-14);
        Assert.True(p42 <= Target, $"42 of 64: p = {p42:g3}");
        double p41 = MatchCalibration.SameFrameProbability(AllAgreeExcept(EveryThird.Append(35)));
        Assert.Equal(MatchCalibration.BinomialTail(64, 41, Chance), p41, 1e-13);
        Assert.True(p41 > Target, $"41 of 64: p = {p41:g3}");
    }

    [Fact]
    public void WholeFrame_calibration_needs_32_judged_cells_for_the_whole_frame_branch()
    {
        // 32 judged cells (the top four rows), all agreeing, the rest unjudged: the whole-frame branch gives
        // 0.35^32 = 2.6e-15 (the sticker branch, 1261 * 0.35^32, is larger).
        var judged32 = Cells((x, y) => y < 4 ? Verdict.Agrees : Verdict.Unjudged);
        Assert.Equal(Math.Pow(Chance, 32), MatchCalibration.SameFrameProbability(judged32), 1e-25);

        // 32 judged with 25 agreeing, scattered: whole frame P(X >= 25 | 32) <= 1e-6 accepts it. With 31
        // judged cells (one agreeing cell made unjudged) the whole-frame branch is closed and only the sticker
        // branch remains, which carries the factor 1261: 1261 * P(X >= 24 | 31) > 1e-6, rejected.
        var differs = new HashSet<int> { 1, 6, 11, 17, 20, 26, 31 }; // 7 differing cells spread over rows 0-3
        var at32 = Cells((x, y) => y >= 4 ? Verdict.Unjudged : differs.Contains(8 * y + x) ? Verdict.Differs : Verdict.Agrees);
        Assert.Equal(25, at32.Count(c => c == Verdict.Agrees));
        double p32 = MatchCalibration.SameFrameProbability(at32);
        Assert.Equal(MatchCalibration.BinomialTail(32, 25, Chance), p32, 1e-14);
        Assert.True(p32 <= Target, $"25 of 32: p = {p32:g3}");
        var at31 = (Verdict[])at32.Clone();
        at31[0] = Verdict.Unjudged;
        double p31 = MatchCalibration.SameFrameProbability(at31);
        Assert.True(p31 > Target, $"24 of 31 (sticker branch only): p = {p31:g3}");
    }

    [Fact]
    public void WholeFrame_calibration_sticker_branch_needs_24_cells_beside_the_sticker()
    {
        // Fewer than 32 judged cells: only the sticker branch counts, and it needs 24 judged cells outside
        // the rectangle. 24 judged (rows 0-2), all agreeing: some rectangle holds only unjudged cells, so
        // 1261 * 0.35^24 = 1.44e-8 <= 1e-6, accepted.
        double p24 = MatchCalibration.SameFrameProbability(Cells((x, y) => y < 3 ? Verdict.Agrees : Verdict.Unjudged));
        Assert.Equal(RectanglesTried * Math.Pow(Chance, 24), p24, 1e-18);
        Assert.True(p24 <= Target);

        // 23 judged, all agreeing: no branch applies (23 < 32 and every rectangle leaves at most 23 < 24): exactly 1.
        var judged23 = Enumerable.Range(0, 64).Select(i => i < 23 ? Verdict.Agrees : Verdict.Unjudged).ToArray();
        Assert.Equal(1.0, MatchCalibration.SameFrameProbability(judged23));

        // 24 judged, 23 agreeing: 1261 * P(X >= 23 | 24) = 6.6e-7, accepted; 22 agreeing: 1.4e-5, rejected.
        // (The rectangle must keep all 24 judged cells outside, so it cannot hide the differing ones.)
        var one = Cells((x, y) => y >= 3 ? Verdict.Unjudged : (x, y) == (3, 1) ? Verdict.Differs : Verdict.Agrees);
        double p23 = MatchCalibration.SameFrameProbability(one);
        Assert.Equal(RectanglesTried * MatchCalibration.BinomialTail(24, 23, Chance), p23, 1e-15);
        Assert.True(p23 <= Target, $"23 of 24: p = {p23:g3}");
        var two = (Verdict[])one.Clone();
        two[6] = Verdict.Differs;
        double p22 = MatchCalibration.SameFrameProbability(two);
        Assert.Equal(RectanglesTried * MatchCalibration.BinomialTail(24, 22, Chance), p22, 1e-13);
        Assert.True(p22 > Target, $"22 of 24: p = {p22:g3}");
    }

    [Fact]
    public void WholeFrame_calibration_nothing_judged_is_certainly_no_evidence()
    {
        Assert.Equal(1.0, MatchCalibration.SameFrameProbability(new Verdict[64]));
        // every cell judged and differing
        // every cell judged and differing: P(X >= 0) = 1 (summed binomial terms, so to rounding)
        Assert.Equal(1.0, MatchCalibration.SameFrameProbability(Cells((_, _) => Verdict.Differs)), 12);
    }

    // ---------------------------------------------------------------- plain border

    [Fact]
    public void WholeFrame_plain_border_is_found_within_two_pixels()
    {
        using var scene = TestImages.Scene(31);
        using var framed = new Mat();
        // 40 px top and bottom, 60 px left and right, purple (BGR)
        Cv2.CopyMakeBorder(scene, framed, 40, 40, 60, 60, BorderTypes.Constant, new Scalar(160, 40, 140));
        // as a copy would arrive: recompressed
        using var decoded = Cv2.ImDecode(TestImages.Jpeg(framed, 75), ImreadModes.Color);
        var inside = PlainBorder.Inside(decoded);
        Assert.InRange(inside.X, 58, 62);
        Assert.InRange(inside.Y, 38, 42);
        Assert.InRange(inside.Right, 700 - 2, 700 + 2);
        Assert.InRange(inside.Bottom, 520 - 2, 520 + 2);

        // uneven border: 10 px on top only, 50 px on the right only
        using var uneven = new Mat();
        Cv2.CopyMakeBorder(scene, uneven, 10, 0, 0, 50, BorderTypes.Constant, new Scalar(20, 200, 240));
        Assert.Equal(new Rect(0, 10, 640, 480), PlainBorder.Inside(uneven));
    }

    [Fact]
    public void WholeFrame_plain_border_absent_or_everywhere_gives_the_whole_frame()
    {
        using var scene = TestImages.Scene(32);
        Assert.Equal(new Rect(0, 0, 640, 480), PlainBorder.Inside(scene));

        // nearly all one colour: a small dot in the middle leaves an "inside" far under a quarter of each side
        using var plain = new Mat(400, 600, MatType.CV_8UC3, new Scalar(90, 90, 200));
        plain.Circle(new Point(300, 200), 20, new Scalar(255, 255, 255), -1);
        Assert.Equal(new Rect(0, 0, 600, 400), PlainBorder.Inside(plain));

        // one plain column is an edge of the picture, not a border (fewer than 3 pixels)
        using var edged = new Mat();
        Cv2.CopyMakeBorder(scene, edged, 0, 0, 2, 0, BorderTypes.Constant, new Scalar(0, 0, 0));
        Assert.Equal(new Rect(0, 0, 642, 480), PlainBorder.Inside(edged));
    }

    [Fact]
    public void WholeFrame_plain_border_is_found_in_a_view_of_a_larger_picture()
    {
        // The picture is read in place, row by row: a view (rows longer than its width) must give what a copy gives.
        using var scene = TestImages.Scene(33);
        using var framed = new Mat();
        Cv2.CopyMakeBorder(scene, framed, 30, 30, 20, 20, BorderTypes.Constant, new Scalar(160, 40, 140));
        using var canvas = new Mat(framed.Rows + 40, framed.Cols + 100, MatType.CV_8UC3, new Scalar(0, 0, 255));
        using var view = new Mat(canvas, new Rect(50, 20, framed.Cols, framed.Rows));
        framed.CopyTo(view);
        Assert.False(view.IsContinuous());
        Assert.Equal(new Rect(20, 30, 640, 480), PlainBorder.Inside(view));
        Assert.Equal(PlainBorder.Inside(framed), PlainBorder.Inside(view));
    }

    [Fact]
    public void Plain_border_and_page_regions_refuse_a_picture_that_is_not_8_bit_BGR()
    {
        using var gray = new Mat(100, 100, MatType.CV_8UC1, Scalar.All(128));
        Assert.Throws<ArgumentException>(() => PlainBorder.Inside(gray));
        Assert.Throws<ArgumentException>(() => PictureRegions.Find(gray));
    }

    // ---------------------------------------------------------------- pictures without corners

    private static Scalar Mix(Scalar a, Scalar b, double t) =>
        new(a.Val0 * (1 - t) + b.Val0 * t, a.Val1 * (1 - t) + b.Val1 * t, a.Val2 * (1 - t) + b.Val2 * t);

    /// <summary>
    /// Vertical stripes of irregular widths (3-12 px), gray and brown, under a smooth vignette: edges
    /// everywhere but no corners, so ORB/RANSAC has nothing distinct to anchor a homography on.
    /// </summary>
    internal static Mat Stripes(int seed, int width = 800, int height = 800)
    {
        var rng = new Random(seed);
        var row = new (byte B, byte G, byte R)[width];
        for (int x = 0; x < width;)
        {
            int w = rng.Next(3, 13);
            (byte, byte, byte) colour;
            if (rng.Next(2) == 0)
            {
                byte g = (byte)rng.Next(50, 220);
                colour = (g, g, g);
            }
            else
            {
                int r = rng.Next(100, 210);
                colour = ((byte)(r * 0.35), (byte)(r * 0.6), (byte)r);
            }
            for (int i = 0; i < w && x < width; i++, x++)
                row[x] = colour;
        }
        var pixels = new byte[width * height * 3];
        double cx = width / 2.0, cy = height / 2.0, r2 = cx * cx + cy * cy;
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
            {
                double f = 1 - 0.5 * ((x - cx) * (x - cx) + (y - cy) * (y - cy)) / r2;
                int i = (y * width + x) * 3;
                pixels[i] = (byte)(row[x].B * f);
                pixels[i + 1] = (byte)(row[x].G * f);
                pixels[i + 2] = (byte)(row[x].R * f);
            }
        using var wrapped = Mat.FromPixelData(height, width, MatType.CV_8UC3, pixels);
        return wrapped.Clone();
    }

    /// <summary>
    /// Large soft blobs on a colour gradient under soft clouds (coarse random noise, smoothly interpolated),
    /// blurred with a large sigma: shading everywhere, hardly a corner anywhere.
    /// </summary>
    internal static Mat SoftBlobs(int seed, int width = 800, int height = 600)
    {
        var rng = new Random(seed);
        using var img = new Mat(height, width, MatType.CV_8UC3);
        var top = new Scalar(rng.Next(40, 200), rng.Next(40, 200), rng.Next(40, 200));
        var bottom = new Scalar(rng.Next(40, 200), rng.Next(40, 200), rng.Next(40, 200));
        for (int y = 0; y < height; y++)
            img.Line(new Point(0, y), new Point(width - 1, y), Mix(top, bottom, (double)y / height));
        for (int i = 0; i < 10; i++)
        {
            var centre = new Point(rng.Next(width), rng.Next(height));
            var axes = new Size(rng.Next(60, 160), rng.Next(60, 160));
            img.Ellipse(centre, axes, rng.Next(180), 0, 360, new Scalar(rng.Next(256), rng.Next(256), rng.Next(256)), -1);
        }
        using var blurred = new Mat();
        Cv2.GaussianBlur(img, blurred, new Size(0, 0), 18);
        // clouds: one random value per CloudCell x CloudCell pixels, interpolated bicubically, blurred again
        int cw = width / CloudCell + 1, ch = height / CloudCell + 1;
        var coarse = new float[cw * ch];
        for (int i = 0; i < coarse.Length; i++)
            coarse[i] = (float)(rng.NextDouble() * 2 - 1) * CloudAmplitude;
        using var coarseMat = Mat.FromPixelData(ch, cw, MatType.CV_32FC1, coarse);
        using var clouds = new Mat();
        Cv2.Resize(coarseMat, clouds, new Size(width, height), 0, 0, InterpolationFlags.Cubic);
        Cv2.GaussianBlur(clouds, clouds, new Size(0, 0), CloudBlur);
        using var clouds3 = new Mat();
        Cv2.Merge([clouds, clouds, clouds], clouds3);
        using var sum = new Mat();
        blurred.ConvertTo(sum, MatType.CV_32FC3);
        Cv2.Add(sum, clouds3, sum);
        var result = new Mat();
        sum.ConvertTo(result, MatType.CV_8UC3);
        return result;
    }

    private const int CloudCell = 80;
    private const float CloudAmplitude = 30;
    private const double CloudBlur = 20;

    [Fact]
    public void WholeFrame_stripes_copy_matches_without_inliers()
    {
        var (matcher, original) = MatcherWithStripes();

        using var half = TestImages.Resized(original, 0.5);
        var copy = TestImages.Jpeg(half, 60);
        var d = matcher.Explain(copy);
        Assert.True(d.Match is not null, $"stripes copy: no match; best {d.BestCandidate}, inliers {d.DistinctInliers}, agreement {d.Agreement}, verified {d.Verifications}, candidates {string.Join(' ', d.Candidates)}");
        Assert.Equal("stripes", d.Match.OriginalId);
        // No corners: ORB finds some 200 keypoints on the query (stripe ends, JPEG blocks) but none that RANSAC can
        // anchor a homography on; the evidence is the whole frame's pixels (a frame verification carries no inliers).
        Assert.Equal(0, d.DistinctInliers);
        Assert.True(d.Agreement >= 0.8, $"agreement {d.Agreement}");
        Assert.InRange(d.Match.Score, 0.5, 1.0);
        Assert.False(d.Match.Transform!.Mirror);
        Assert.InRange(d.Match.Transform.Scale, 0.48, 0.52);
        Assert.Equal(new[] { 0, 0, 800, 800 }, d.Match.Transform.Crop);
    }

    [Fact]
    public void WholeFrame_stripes_copy_inside_a_plain_border_matches()
    {
        var (matcher, original) = MatcherWithStripes();

        using var half = TestImages.Resized(original, 0.5);
        using var framed = new Mat();
        Cv2.CopyMakeBorder(half, framed, 50, 50, 50, 50, BorderTypes.Constant, new Scalar(40, 170, 60));
        var d = matcher.Explain(TestImages.Jpeg(framed, 60));
        Assert.True(d.Match is not null, $"framed stripes: no match; best {d.BestCandidate}, inliers {d.DistinctInliers}, agreement {d.Agreement}, verified {d.Verifications}, candidates {string.Join(' ', d.Candidates)}");
        Assert.Equal("stripes", d.Match.OriginalId);
        Assert.Equal(0, d.DistinctInliers);
        // the border is seen as such: query pixel (50, 50) is the original's corner, (450, 450) its far corner
        var h = d.Match.Homography!;
        (double X, double Y) Map(double x, double y)
        {
            double w = h[6] * x + h[7] * y + h[8];
            return ((h[0] * x + h[1] * y + h[2]) / w, (h[3] * x + h[4] * y + h[5]) / w);
        }
        var (x0, y0) = Map(50, 50);
        var (x1, y1) = Map(450, 450);
        Assert.InRange(x0, -6, 6);
        Assert.InRange(y0, -6, 6);
        Assert.InRange(x1, 794, 806);
        Assert.InRange(y1, 794, 806);
    }

    [Fact]
    public void WholeFrame_different_stripes_do_not_match()
    {
        var (matcher, _) = MatcherWithStripes();

        foreach (int seed in new[] { 4002, 4003 })
        {
            using var other = Stripes(seed);
            using var half = TestImages.Resized(other, 0.5);
            var d = matcher.Explain(TestImages.Jpeg(half, 60));
            // the impostor was compared with the original (same layout, same vignette), and rejected
            Assert.True(d.Verifications > 0, $"seed {seed}: never compared");
            Assert.Null(d.Match);
        }
    }

    [Fact]
    public void WholeFrame_smooth_picture_under_a_sticker_matches_and_an_unrelated_one_does_not()
    {
        var matcher = NewMatcher();
        using var original = SoftBlobs(5001);
        matcher.Register("blobs", TestImages.Png(original));

        // The picture is corner-poor: even its plain recompression is matched by whole-frame evidence, not inliers.
        var recompressed = matcher.Explain(TestImages.Jpeg(original, 80));
        Assert.Equal("blobs", recompressed.Match?.OriginalId);
        Assert.Equal(0, recompressed.DistinctInliers);

        // An unrelated opaque sticker (a detailed scene) over a quarter of the copy (400x300 of 800x600): it
        // hides 5x5 cells of the grid; the cells beside it agree (about 1.7e-14 at the time of writing).
        using var sticker = TestImages.Scene(5100, 400, 300);
        using var copy = original.Clone();
        using (var region = new Mat(copy, new Rect(330, 60, 400, 300)))
            sticker.CopyTo(region);
        var d = matcher.Explain(TestImages.Jpeg(copy, 80));
        Assert.True(d.Match is not null, $"sticker copy: no match; best {d.BestCandidate}, inliers {d.DistinctInliers}, agreement {d.Agreement}, verified {d.Verifications}, candidates {string.Join(' ', d.Candidates)}");
        Assert.Equal("blobs", d.Match.OriginalId);
        Assert.Equal(0, d.DistinctInliers); // the sticker's corners are not the original's: the frame decided
        Assert.InRange(d.Agreement!.Value, 0.5, 0.85); // the sticker's cells disagree, the rest agree
        Assert.Equal(new[] { 0, 0, 800, 600 }, d.Match.Transform!.Crop);

        // An unrelated smooth picture of the same size, as is and under the same sticker: compared, rejected.
        using var unrelated = SoftBlobs(5002);
        var plain = matcher.Explain(TestImages.Jpeg(unrelated, 80));
        Assert.True(plain.Verifications > 0, "plain impostor never compared");
        Assert.Null(plain.Match);
        using var stickered = unrelated.Clone();
        using (var region = new Mat(stickered, new Rect(330, 60, 400, 300)))
            sticker.CopyTo(region);
        var u = matcher.Explain(TestImages.Jpeg(stickered, 80));
        Assert.True(u.Verifications > 0, "stickered impostor never compared");
        Assert.Null(u.Match);
    }

    // ---------------------------------------------------------------- ramps

    private static Mat Gradient(Scalar top, Scalar bottom, Action<Mat> shape, int width = 640, int height = 480)
    {
        var img = new Mat(height, width, MatType.CV_8UC3);
        for (int y = 0; y < height; y++)
        {
            double t = (double)y / (height - 1);
            img.Line(new Point(0, y), new Point(width - 1, y), Mix(top, bottom, t));
        }
        shape(img);
        return img;
    }

    [Fact]
    public void WholeFrame_different_gradients_do_not_match_through_their_shared_ramp()
    {
        // blue to white with a star; green to yellow with a ring (BGR)
        using var blue = Gradient(new Scalar(255, 0, 0), new Scalar(255, 255, 255), img =>
        {
            var star = Enumerable.Range(0, 10).Select(i =>
            {
                double a = i * Math.PI / 5, r = i % 2 == 0 ? 60 : 25;
                return new Point(200 + (int)(r * Math.Cos(a)), 150 + (int)(r * Math.Sin(a)));
            }).ToArray();
            img.FillPoly([star], new Scalar(0, 0, 200));
        });
        using var green = Gradient(new Scalar(0, 255, 0), new Scalar(0, 255, 255), img =>
        {
            img.Circle(new Point(450, 320), 50, new Scalar(120, 0, 120), 12);
            img.Rectangle(new Rect(430, 300, 40, 40), new Scalar(20, 20, 20), -1);
        });

        // The pictures' cells are ramps that correlate almost everywhere; beyond the ramps nothing is judged.
        using var blueThumb = PixelAgreement.Thumbnail(blue);
        using var greenThumb = PixelAgreement.Thumbnail(green);
        var identity = new double[] { 1, 0, 0, 0, 1, 0, 0, 0, 1 };
        var withRamps = PixelAgreement.Cells(greenThumb, blueThumb, identity, removeRamps: false);
        var beyondRamps = PixelAgreement.Cells(greenThumb, blueThumb, identity, removeRamps: true);
        Assert.True(withRamps.Count(c => c == Verdict.Agrees) >= 32, $"with ramps: {withRamps.Count(c => c == Verdict.Agrees)} agree");
        Assert.True(MatchCalibration.SameFrameProbability(withRamps) <= Target); // what ramps alone would claim
        // Beyond the ramps only the cells of the original's star are judged: its bounding box (140-260, 90-210)
        // lies in cells 1-3 of both axes (16 x 12 pixel cells of the 128 x 96 thumbnail, 5 pixels to a thumbnail pixel).
        var judged = Enumerable.Range(0, 64).Where(i => beyondRamps[i] != Verdict.Unjudged).ToArray();
        Assert.All(judged, i => Assert.True(i % 8 is >= 1 and <= 3 && i / 8 is >= 1 and <= 3, $"cell ({i % 8}, {i / 8}) judged beyond the star"));
        Assert.Equal(1.0, MatchCalibration.SameFrameProbability(beyondRamps));

        // End to end, each way round: the other picture is compared with the original and rejected.
        foreach (var (originalImg, queryImg) in new[] { (blue, green), (green, blue) })
        {
            var matcher = NewMatcher();
            matcher.Register("original", TestImages.Png(originalImg));
            var d = matcher.Explain(TestImages.Jpeg(queryImg, 85));
            Assert.True(d.Verifications > 0, "never compared");
            Assert.Null(d.Match);
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Cell_moments_equal_removing_the_plane_from_each_pixel(bool removeRamp)
    {
        var random = new Random(17);
        const int stride = 40;
        var original = new byte[stride * 30];
        var query = new byte[stride * 30];
        for (int i = 0; i < original.Length; i++)
        {
            int x = i % stride, y = i / stride;
            original[i] = (byte)Math.Clamp(40 + 3 * x + 2 * y + random.Next(30), 0, 255); // a ramp plus texture
            query[i] = (byte)Math.Clamp(original[i] / 2 + 60 - x + random.Next(20), 0, 255);
        }
        // Narrower than eight pixels, eight and more with and without a remainder (the sums go eight at a time).
        foreach (var cell in new[] { new Rect(5, 7, 13, 9), new Rect(0, 0, 7, 5), new Rect(3, 2, 16, 12), new Rect(1, 1, 24, 20), new Rect(30, 20, 8, 3) })
            CheckMoments(original, query, stride, cell, removeRamp);
    }

    private static void CheckMoments(byte[] original, byte[] query, int stride, Rect cell, bool removeRamp)
    {
        var (originalStd, queryStd, covariance) = PixelAgreement.Moments(original, query, stride, cell, removeRamp);

        // The plain way: fit each side's mean (and ramps), subtract it pixel by pixel, then compare.
        double[] Residual(byte[] pixels)
        {
            double cx = (cell.Width - 1) / 2.0, cy = (cell.Height - 1) / 2.0, mean = 0, sx = 0, sy = 0, xx = 0, yy = 0;
            for (int y = 0; y < cell.Height; y++)
                for (int x = 0; x < cell.Width; x++)
                {
                    double v = pixels[(cell.Y + y) * stride + cell.X + x];
                    mean += v / (cell.Width * cell.Height);
                    sx += v * (x - cx);
                    sy += v * (y - cy);
                    xx += (x - cx) * (x - cx);
                    yy += (y - cy) * (y - cy);
                }
            var r = new List<double>();
            for (int y = 0; y < cell.Height; y++)
                for (int x = 0; x < cell.Width; x++)
                    r.Add(pixels[(cell.Y + y) * stride + cell.X + x] - mean - (removeRamp ? sx / xx * (x - cx) + sy / yy * (y - cy) : 0));
            return [.. r];
        }
        var ro = Residual(original);
        var rq = Residual(query);
        Assert.Equal(Math.Sqrt(ro.Average(v => v * v)), originalStd, 6);
        Assert.Equal(Math.Sqrt(rq.Average(v => v * v)), queryStd, 6);
        Assert.Equal(ro.Zip(rq, (a, b) => a * b).Average(), covariance, 6);
        Assert.True(originalStd > 5 && Math.Abs(covariance) > 1, $"the fixture has texture and correlation in {cell}");
    }
}
