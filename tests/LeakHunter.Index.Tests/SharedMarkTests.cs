using LeakHunter.Index.Matching;
using OpenCvSharp;

namespace LeakHunter.Index.Tests;

/// <summary>
/// Different photos that carry the same caption or logo at the same place (one photographer's
/// signature on all their work) share a small, perfectly matching patch. That patch is not a copy
/// of the photo: the matcher must not accuse one of being the other, while real crops and copies
/// under a sticker still match.
/// </summary>
public class SharedMarkTests
{
    /// <summary>A generated photo with the studio's caption at the bottom left and its logo at the top right.</summary>
    internal static Mat Captioned(int seed, bool caption = true, bool logo = true)
    {
        var img = TestImages.Scene(seed);
        if (logo)
        {
            img.Circle(new Point(590, 45), 30, Scalar.White, 3);
            img.PutText("LS", new Point(568, 58), HersheyFonts.HersheySimplex, 1.0, Scalar.White, 3);
        }
        if (caption)
            img.PutText("Studio Lumen", new Point(30, 450), HersheyFonts.HersheyDuplex, 1.5, Scalar.White, 3);
        return img;
    }

    /// <summary>
    /// The end-to-end tests' scene: shapes on a gradient and the caption "scene N" at the same place in every picture.
    /// </summary>
    internal static Mat SceneWithCaption(int seed) => Cv2.ImDecode(EndToEnd.Tests.TestImages.Scene(seed), ImreadModes.Color);

    [Fact]
    public void Scenes_sharing_only_their_caption_do_not_match()
    {
        using var m = new CopyMatcher(new MatcherOptions(), null);
        using var original = SceneWithCaption(1);
        m.Register("scene-1", TestImages.Png(original));
        for (int seed = 2; seed < 12; seed++)
        {
            using var other = SceneWithCaption(seed);
            using var small = TestImages.Resized(other, 0.8);
            var d = m.Explain(TestImages.Jpeg(small, 85));
            Assert.True(d.Match is null, $"seed {seed}: {d.DistinctInliers} inliers, coverage {d.Coverage:0.000}, {d.Cells} cells, pixel agreement {d.Agreement:0.000}");
        }
        // the original itself, resized and recompressed, still matches
        using var copy = TestImages.Resized(original, 0.6);
        Assert.Equal("scene-1", m.Match(TestImages.Jpeg(copy, 70))?.OriginalId);
    }

    [Theory]
    [InlineData(true, false)]
    [InlineData(false, true)]
    public void Different_photos_with_the_same_caption_and_logo_do_not_match(bool caption, bool logo)
    {
        using var m = new CopyMatcher(new MatcherOptions(), null);
        using var original = Captioned(300, caption, logo);
        m.Register("studio-300", TestImages.Png(original));
        for (int seed = 301; seed < 306; seed++)
        {
            using var other = Captioned(seed, caption, logo);
            using var small = TestImages.Resized(other, 0.8);
            var d = m.Explain(TestImages.Jpeg(small, 85));
            Assert.True(d.Match is null, $"seed {seed}: {d.DistinctInliers} inliers, coverage {d.Coverage:0.000}, {d.Cells} cells, pixel agreement {d.Agreement:0.000}");
        }
    }

    [Fact]
    public void Captioned_photo_still_matches_its_crops_and_sticker_copies()
    {
        using var m = new CopyMatcher(new MatcherOptions(), null);
        using var original = Captioned(300);
        m.Register("studio-300", TestImages.Png(original));
        m.Register("studio-301", TestImages.Png(Captioned(301)));

        // a quarter of the area, away from the caption and logo
        using (var crop = new Mat(original, new Rect(200, 100, 320, 240)))
            Assert.Equal("studio-300", m.Match(TestImages.Jpeg(crop.Clone(), 80))?.OriginalId);
        // a sticker over a third of the picture
        using (var stickered = original.Clone())
        {
            using var sticker = TestImages.Scene(999, 300, 330);
            sticker.CopyTo(new Mat(stickered, new Rect(300, 120, 300, 330)));
            Assert.Equal("studio-300", m.Match(TestImages.Jpeg(stickered, 80))?.OriginalId);
        }
        // resized and recompressed, caption included
        using (var small = TestImages.Resized(original, 0.6))
            Assert.Equal("studio-300", m.Match(TestImages.Jpeg(small, 70))?.OriginalId);
    }
}
