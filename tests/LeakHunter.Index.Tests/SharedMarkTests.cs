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
    internal static Mat SceneWithCaption(int seed)
    {
        var random = new Random(seed);
        var image = new Mat(480, 640, MatType.CV_8UC3);
        const int rows = 480;
        for (var y = 0; y < rows; y++)
            Cv2.Line(image, new Point(0, y), new Point(639, y), new Scalar(40 + y / 4, 80 + random.Next(20), 160 - y / 5));
        for (var i = 0; i < 60; i++)
        {
            var color = new Scalar(random.Next(256), random.Next(256), random.Next(256));
            var center = new Point(random.Next(640), random.Next(480));
            switch (i % 3)
            {
                case 0: Cv2.Circle(image, center, random.Next(5, 60), color, -1); break;
                case 1: Cv2.Rectangle(image, new Rect(center.X, center.Y, random.Next(10, 120), random.Next(10, 90)), color, -1); break;
                default: Cv2.Line(image, center, new Point(random.Next(640), random.Next(480)), color, random.Next(1, 6)); break;
            }
        }
        Cv2.PutText(image, $"scene {seed}", new Point(40, 440), HersheyFonts.HersheyDuplex, 1.5, Scalar.White, 3);
        return image;
    }

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
