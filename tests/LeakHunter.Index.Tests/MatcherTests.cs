using LeakHunter.Index.Hashing;
using LeakHunter.Index.Imaging;
using LeakHunter.Index.Matching;
using OpenCvSharp;

namespace LeakHunter.Index.Tests;

/// <summary>One matcher with three generated originals, shared by the tests of this class.</summary>
public sealed class GeneratedOriginalsFixture : IDisposable
{
    public GeneratedOriginalsFixture()
    {
        Matcher = new CopyMatcher(new MatcherOptions(), null);
        for (int i = 0; i < 3; i++)
        {
            Scenes[i] = TestImages.Scene(100 + i);
            Bytes[i] = TestImages.Jpeg(Scenes[i], 95);
            Matcher.Register($"scene{i}", Bytes[i]);
        }
    }

    public CopyMatcher Matcher { get; }
    public Mat[] Scenes { get; } = new Mat[3];
    public byte[][] Bytes { get; } = new byte[3][];

    public void Dispose()
    {
        Matcher.Dispose();
        foreach (var s in Scenes) s.Dispose();
    }
}

public class MatcherTests(GeneratedOriginalsFixture fx) : IClassFixture<GeneratedOriginalsFixture>
{
    [Fact]
    public void Exact_bytes_match_with_score_one_and_no_homography()
    {
        var r = fx.Matcher.Match(fx.Bytes[1]);
        Assert.NotNull(r);
        Assert.Equal("scene1", r.OriginalId);
        Assert.Equal(1.0, r.Score);
        Assert.Null(r.Homography);
    }

    [Fact]
    public void Finds_resized_recompressed_copy()
    {
        using var small = TestImages.Resized(fx.Scenes[0], 0.5);
        var r = fx.Matcher.Match(TestImages.Jpeg(small, 40));
        Assert.NotNull(r);
        Assert.Equal("scene0", r.OriginalId);
        Assert.InRange(r.Score, 0.5, 1.0);
        Assert.InRange(r.Transform!.Scale, 0.45, 0.55);
        Assert.False(r.Transform.Mirror);
        Assert.NotNull(r.Homography);
        Assert.Equal(9, r.Homography!.Length);
    }

    [Fact]
    public void Known_crop_yields_the_right_rectangle()
    {
        var rect = new Rect(200, 120, 320, 240); // a quarter of the area
        using var crop = new Mat(fx.Scenes[2], rect);
        var r = fx.Matcher.Match(TestImages.Png(crop.Clone()));
        Assert.NotNull(r);
        Assert.Equal("scene2", r.OriginalId);
        var c = r.Transform!.Crop;
        Assert.InRange(c[0], rect.X - 4, rect.X + 4);
        Assert.InRange(c[1], rect.Y - 4, rect.Y + 4);
        Assert.InRange(c[2], rect.Width - 6, rect.Width + 6);
        Assert.InRange(c[3], rect.Height - 6, rect.Height + 6);
        Assert.InRange(r.Transform.Scale, 0.97, 1.03);
        // the homography maps query pixels into the original's frame
        var h = r.Homography!;
        double w = h[6] * 10 + h[7] * 10 + h[8];
        Assert.InRange((h[0] * 10 + h[1] * 10 + h[2]) / w, rect.X + 10 - 3, rect.X + 10 + 3);
    }

    [Fact]
    public void Mirrored_copy_reports_the_mirror()
    {
        using var flipped = new Mat();
        Cv2.Flip(fx.Scenes[1], flipped, FlipMode.Y);
        var r = fx.Matcher.Match(TestImages.Jpeg(flipped, 80));
        Assert.NotNull(r);
        Assert.Equal("scene1", r.OriginalId);
        Assert.True(r.Transform!.Mirror);
        // query pixel (x, y) shows original pixel (W - x, y)
        var h = r.Homography!;
        double w = h[6] * 100 + h[7] * 50 + h[8];
        Assert.InRange((h[0] * 100 + h[1] * 50 + h[2]) / w, 640 - 100 - 4, 640 - 100 + 4);
    }

    [Fact]
    public void Rotated_copy_reports_the_rotation()
    {
        using var rot = new Mat();
        using var m = Cv2.GetRotationMatrix2D(new Point2f(320, 240), 8, 1.0); // 8 degrees counter-clockwise
        Cv2.WarpAffine(fx.Scenes[0], rot, m, new Size(640, 480));
        var r = fx.Matcher.Match(TestImages.Jpeg(rot, 85));
        Assert.NotNull(r);
        Assert.Equal("scene0", r.OriginalId);
        Assert.InRange(r.Transform!.Rotation, 7.0, 9.0);
    }

    [Fact]
    public void Unrelated_and_flat_pictures_do_not_match()
    {
        using var other = TestImages.Scene(999);
        Assert.Null(fx.Matcher.Match(TestImages.Jpeg(other)));
        using var flat = new Mat(480, 640, MatType.CV_8UC3, new Scalar(30, 120, 200));
        Assert.Null(fx.Matcher.Match(TestImages.Png(flat)));
        using var tiny = TestImages.Resized(fx.Scenes[0], 0.04); // 25x19: too small to carry evidence
        Assert.Null(fx.Matcher.Match(TestImages.Png(tiny)));
    }

    [Fact]
    public void Low_detail_picture_never_matches_on_a_hash_alone()
    {
        // A smooth gradient has a perfectly good PDQ but no local features: register it, then query a recompression.
        using var m = new CopyMatcher(new MatcherOptions(), null);
        using var g = new Mat(300, 400, MatType.CV_8UC3);
        for (int y = 0; y < 300; y++)
            g.Line(new Point(0, y), new Point(399, y), new Scalar(y * 255 / 300, 100, 255 - y * 255 / 300));
        m.Register("gradient", TestImages.Png(g));
        Assert.Null(m.Match(TestImages.Jpeg(g, 70)));
    }

    [Fact]
    public void Small_generated_set_has_full_recall_and_no_false_match()
    {
        int found = 0, queries = 0;
        for (int i = 0; i < 3; i++)
        {
            var variants = new List<byte[]>();
            using (var s = TestImages.Resized(fx.Scenes[i], 0.7)) variants.Add(TestImages.Jpeg(s, 50));
            using (var c = new Mat(fx.Scenes[i], new Rect(60, 40, 450, 360))) variants.Add(TestImages.Jpeg(c.Clone(), 70));
            using (var gray = new Mat())
            {
                Cv2.CvtColor(fx.Scenes[i], gray, ColorConversionCodes.BGR2GRAY);
                variants.Add(TestImages.Jpeg(gray, 70));
            }
            foreach (var v in variants)
            {
                queries++;
                if (fx.Matcher.Match(v)?.OriginalId == $"scene{i}") found++;
            }
        }
        Assert.Equal(queries, found);
        for (int seed = 500; seed < 504; seed++)
        {
            using var d = TestImages.Scene(seed);
            Assert.Null(fx.Matcher.Match(TestImages.Jpeg(d, 60)));
        }
    }

    [Fact]
    public void Bad_input_is_rejected_and_nothing_is_stored()
    {
        using var m = new CopyMatcher(new MatcherOptions(), null);
        Assert.Throws<ImageRejectedException>(() => m.Register("x", "not an image"u8.ToArray()));
        Assert.Equal(0, m.Count);
        Assert.Throws<ImageRejectedException>(() => fx.Matcher.Match([1, 2, 3]));
    }

    [Fact]
    public void Hashes_of_a_copy_are_close_and_of_a_mirror_far()
    {
        using var small = TestImages.Resized(fx.Scenes[0], 0.5);
        using var a = ImageDecoder.Decode(fx.Bytes[0]);
        using var b = ImageDecoder.Decode(TestImages.Jpeg(small, 50));
        Assert.True(HashDistance.Hamming(PHash.Compute(a.Bgr), PHash.Compute(b.Bgr)) <= 8);
        Assert.True(Pdq.Compute(a.Bgr).Hash.Distance(Pdq.Compute(b.Bgr).Hash) <= 40);
        Assert.True(Pdq.Compute(a.Bgr).Hash.Distance(Pdq.ComputeMirror(a.Bgr).Hash) > 64);
    }
}

public class MatcherPersistenceTests
{
    [Fact]
    public void Fingerprints_survive_a_restart_and_removal_is_durable()
    {
        var dir = Path.Combine(Path.GetTempPath(), "lh-matcher-" + Guid.NewGuid().ToString("N"));
        try
        {
            using var scene = TestImages.Scene(7);
            using var other = TestImages.Scene(8);
            using (var m = new CopyMatcher(new MatcherOptions(), dir))
            {
                m.Register("a", TestImages.Jpeg(scene));
                m.Register("b", TestImages.Jpeg(other));
                m.Register("b", TestImages.Jpeg(other, 80)); // re-registering replaces
                Assert.Equal(2, m.Count);
            }
            // an interrupted write leaves only a temp file, which is ignored; a damaged file is skipped
            File.WriteAllBytes(Path.Combine(dir, "6363.fp.tmp-deadbeef"), [1, 2, 3]);
            File.WriteAllBytes(Path.Combine(dir, "6464.fp"), [1, 2, 3, 4]);
            using (var m = new CopyMatcher(new MatcherOptions(), dir))
            {
                Assert.Equal(["a", "b"], m.OriginalIds);
                using var small = TestImages.Resized(scene, 0.6);
                Assert.Equal("a", m.Match(TestImages.Jpeg(small, 60))?.OriginalId);
                Assert.True(m.Remove("a"));
                Assert.False(m.Remove("a"));
                Assert.Null(m.Match(TestImages.Jpeg(small, 60)));
            }
            using (var m = new CopyMatcher(new MatcherOptions(), dir))
            {
                Assert.Equal(["b"], m.OriginalIds);
                Assert.Equal("b", m.Match(TestImages.Jpeg(other, 50))?.OriginalId);
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Calibration_threshold_follows_the_target_rate()
    {
        var c = MatchCalibration.Default;
        int strict = c.Threshold(1e-9), loose = c.Threshold(1e-3);
        Assert.True(strict > loose);
        Assert.Equal(0.5, c.Score(c.Threshold(1e-6), 1e-6), 1);
        Assert.True(c.FalseMatchProbability(c.Threshold(1e-6)) <= 1e-6);
    }

    [Fact]
    public void Pixels_corroborate_a_dozen_inliers_only_when_nearly_every_cell_agrees()
    {
        var c = MatchCalibration.Default;
        const double target = 1e-6;
        Assert.Equal(0.2 * 0.2, MatchCalibration.BinomialTail(2, 2, 0.2), 9);
        Assert.Equal(1.0, MatchCalibration.BinomialTail(5, 0, 0.2), 9);
        Assert.True(c.FalseMatchProbability(12) > target); // geometry alone is not enough
        Assert.True(c.FalseMatchProbability(12, agreeingCells: 8, judgedCells: 8) <= target);
        Assert.True(c.FalseMatchProbability(12, agreeingCells: 20, judgedCells: 24) <= target);
        Assert.True(c.FalseMatchProbability(12, agreeingCells: 5, judgedCells: 8) > target); // an impostor can do that
        Assert.Equal(c.FalseMatchProbability(11), c.FalseMatchProbability(11, agreeingCells: 30, judgedCells: 30)); // too few points
    }
}

/// <summary>Pictures that share a large part: screenshots of one application window showing different pages.</summary>
public class SiblingPicturesTests
{
    /// <summary>The same frame (sidebar, title bar, buttons: here a textured scene) around a different content panel.</summary>
    private static Mat Window(int contentSeed)
    {
        var window = TestImages.Scene(620, 800, 600);
        var panel = new Rect(170, 70, 600, 460);
        using var content = TestImages.Scene(contentSeed, panel.Width, panel.Height);
        using var at = new Mat(window, panel);
        content.CopyTo(at);
        return window;
    }

    [Fact]
    public void A_copy_of_one_window_matches_that_window_and_not_its_sibling()
    {
        using var matcher = new CopyMatcher(new MatcherOptions(), null);
        using var first = Window(621);
        using var second = Window(622);
        matcher.Register("first", TestImages.Jpeg(first, 95));
        matcher.Register("second", TestImages.Jpeg(second, 95));
        foreach (var (picture, id) in new[] { (first, "first"), (second, "second") })
        {
            using var copy = TestImages.Resized(picture, 0.7);
            var diagnostics = matcher.Explain(TestImages.Jpeg(copy, 70));
            Assert.Equal(id, diagnostics.Match?.OriginalId);
        }
        // A third page of the same window was never registered: the shared frame alone accuses neither.
        using var third = Window(623);
        using var thirdCopy = TestImages.Resized(third, 0.7);
        Assert.Null(matcher.Match(TestImages.Jpeg(thirdCopy, 70)));
    }
}
