using LeakHunter.Index.Matching;
using OpenCvSharp;

namespace LeakHunter.Index.Tests;

/// <summary>Pictures shown inside a page: found as regions, and matched with the transform of the picture.</summary>
public class PictureRegionsTests
{
    /// <summary>A forum page of text lines under a title bar, with the picture pasted at (x, y), scaled to the given width.</summary>
    private static Mat ForumPage(Mat picture, int x, int y, int shownWidth)
    {
        var page = new Mat(900, 1200, MatType.CV_8UC3, new Scalar(240, 238, 235));
        Cv2.Rectangle(page, new Rect(0, 0, 1200, 60), new Scalar(90, 60, 30), -1);
        for (int line = 0; line < 18; line++)
            Cv2.PutText(page, "Re: anyone seen this picture before? posted by user" + line, new Point(30, 100 + line * 44),
                HersheyFonts.HersheySimplex, 0.7, Scalar.All(40), 1, LineTypes.AntiAlias);
        using var shown = TestImages.Resized(picture, (double)shownWidth / picture.Width);
        using (var at = new Mat(page, new Rect(x, y, shown.Width, shown.Height)))
            shown.CopyTo(at);
        return page;
    }

    private static void AssertEdgesNear(Rect expected, Rect found, int tolerance)
    {
        Assert.InRange(found.Left, expected.Left - tolerance, expected.Left + tolerance);
        Assert.InRange(found.Top, expected.Top - tolerance, expected.Top + tolerance);
        Assert.InRange(found.Right, expected.Right - tolerance, expected.Right + tolerance);
        Assert.InRange(found.Bottom, expected.Bottom - tolerance, expected.Bottom + tolerance);
    }

    [Fact]
    public unsafe void A_colour_quantised_from_one_four_byte_read_is_the_same_as_from_three_bytes()
    {
        if (!System.Runtime.Intrinsics.X86.Bmi2.IsSupported)
            return;
        var rng = new Random(5);
        var pixels = new byte[3 * 4096 + 1];
        rng.NextBytes(pixels);
        fixed (byte* p = pixels)
            for (int i = 0; i < 4096; i++)
                Assert.Equal(PictureRegions.Quantised(p + 3 * i), PictureRegions.QuantisedOfFour(p + 3 * i));
    }

    [Fact]
    public void Finds_the_picture_in_a_forum_page_and_nothing_in_a_photo()
    {
        using var picture = TestImages.Scene(501);
        using var page = ForumPage(picture, 500, 300, 400);
        // 400 x 300 at (500, 300); found on a 480-px copy, so within a few pixels.
        AssertEdgesNear(new Rect(500, 300, 400, 300), Assert.Single(PictureRegions.Find(page)), 8);

        // A photo has no page background to stand apart from.
        using var photo = TestImages.Scene(502, 1200, 900);
        Assert.Empty(PictureRegions.Find(photo));
    }

    [Fact]
    public void A_subject_alone_on_a_plain_background_is_no_page_unless_small()
    {
        // Clip art or a product shot: a textured, rounded subject on white whose bounds cover 44 % of the picture. Nothing
        // else is there, so the whole-query attempt saw all of it; no region is tried.
        using var canvas = new Mat(480, 640, MatType.CV_8UC3, Scalar.All(255));
        using var texture = TestImages.Scene(520, 640, 480);
        using var subject = new Mat(480, 640, MatType.CV_8UC1, Scalar.All(0));
        Cv2.Ellipse(subject, new RotatedRect(new Point2f(320, 240), new Size2f(400, 340), 0), Scalar.All(255), -1);
        texture.CopyTo(canvas, subject);
        Assert.Empty(PictureRegions.Find(canvas));

        // The same subject above a caption is a page: the picture is tried on its own.
        using var captioned = canvas.Clone();
        for (int line = 0; line < 2; line++)
            Cv2.PutText(captioned, "Fountain in the park, photo by a user " + line, new Point(20, 445 + line * 22),
                HersheyFonts.HersheySimplex, 0.55, Scalar.All(30), 1, LineTypes.AntiAlias);
        AssertEdgesNear(new Rect(120, 70, 400, 340), Assert.Single(PictureRegions.Find(captioned)), 10);

        // A small subject alone on the canvas is still tried: the whole query described it too coarsely.
        using var small = new Mat(480, 640, MatType.CV_8UC3, Scalar.All(255));
        using var smallSubject = new Mat(480, 640, MatType.CV_8UC1, Scalar.All(0));
        Cv2.Ellipse(smallSubject, new RotatedRect(new Point2f(320, 240), new Size2f(260, 200), 0), Scalar.All(255), -1);
        texture.CopyTo(small, smallSubject);
        AssertEdgesNear(new Rect(190, 140, 260, 200), Assert.Single(PictureRegions.Find(small)), 10);
    }

    [Fact]
    public void A_light_picture_that_stands_out_only_by_its_outline_is_found()
    {
        // A light dialog, in nearly the page's own colour, outlined by a thin dark frame: only the frame
        // differs from the page, and it is thinner than text strokes are wide.
        using var dialog = new Mat(300, 400, MatType.CV_8UC3, new Scalar(236, 236, 234));
        Cv2.Rectangle(dialog, new Rect(0, 0, 400, 300), Scalar.All(60), 2);
        for (int line = 0; line < 6; line++)
            Cv2.PutText(dialog, "Option " + line, new Point(20, 40 + line * 40), HersheyFonts.HersheySimplex, 0.6, Scalar.All(50), 1, LineTypes.AntiAlias);
        using var page = ForumPage(dialog, 600, 300, 400);
        AssertEdgesNear(new Rect(600, 300, 400, 300), Assert.Single(PictureRegions.Find(page)), 10);
    }

    [Fact]
    public void A_frame_around_the_whole_page_does_not_make_the_page_one_region()
    {
        // A browser window's outline encloses the whole page: what it encloses is the page, not a picture.
        using var picture = TestImages.Scene(506);
        using var page = ForumPage(picture, 500, 300, 400);
        Cv2.Rectangle(page, new Rect(0, 0, page.Width, page.Height), Scalar.All(90), 3);
        AssertEdgesNear(new Rect(500, 300, 400, 300), Assert.Single(PictureRegions.Find(page)), 8);
    }

    [Fact]
    public void A_window_in_the_page_colour_is_found_as_one_region_around_its_panels()
    {
        // An application window whose background is the page's colour: it shows only as three panels with
        // narrow gaps between them, and is matched as one picture.
        using var window = new Mat(360, 480, MatType.CV_8UC3, new Scalar(240, 238, 235));
        var panels = new[] { new Rect(10, 20, 210, 160), new Rect(240, 20, 230, 160), new Rect(10, 200, 460, 150) };
        for (int i = 0; i < panels.Length; i++)
        {
            using var content = TestImages.Scene(510 + i, panels[i].Width, panels[i].Height);
            using var at = new Mat(window, panels[i]);
            content.CopyTo(at);
        }
        using var page = ForumPage(window, 600, 300, 480);
        // The panels span (610, 320) to (1070, 650).
        AssertEdgesNear(new Rect(610, 320, 460, 330), Assert.Single(PictureRegions.Find(page)), 10);
    }

    [Fact]
    public void A_picture_small_inside_a_forum_page_matches_with_its_place_in_the_page()
    {
        using var matcher = new CopyMatcher(new MatcherOptions(), null);
        using var picture = TestImages.Scene(503);
        matcher.Register("posted", TestImages.Jpeg(picture, 95));
        using var other = TestImages.Scene(504);
        matcher.Register("other", TestImages.Jpeg(other, 95));

        using var page = ForumPage(picture, 600, 350, 320); // half size, a small part of the page
        var match = matcher.Match(TestImages.Jpeg(page, 80));
        Assert.NotNull(match);
        Assert.Equal("posted", match.OriginalId);
        Assert.InRange(match.Transform!.Scale, 0.45, 0.55);
        // The homography maps the page's pixels to the original's: the picture's corner lies at (600, 350).
        var h = match.Homography!;
        double w = h[6] * 600 + h[7] * 350 + h[8];
        Assert.InRange((h[0] * 600 + h[1] * 350 + h[2]) / w, -6, 6);
        Assert.InRange((h[3] * 600 + h[4] * 350 + h[5]) / w, -6, 6);

        // The same page with an unrelated picture matches nothing.
        using var unrelated = TestImages.Scene(505);
        using var innocentPage = ForumPage(unrelated, 600, 350, 320);
        Assert.Null(matcher.Match(TestImages.Jpeg(innocentPage, 80)));
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(9, 4)]
    [InlineData(17, 3)]
    [InlineData(480, 271)]
    public void The_foreground_mask_is_every_pixel_farther_than_the_tolerance_from_the_background(int width, int height)
    {
        var pixels = new byte[width * height * 3];
        var rng = new Random(width + height);
        // Half the pixels near the background, half anywhere: many at the tolerance's edge.
        for (int i = 0; i < pixels.Length; i += 3)
            for (int c = 0; c < 3; c++)
                pixels[i + c] = (byte)(rng.Next(2) == 0 ? Math.Clamp(200 - 30 * c + rng.Next(-12, 13), 0, 255) : rng.Next(256));
        using var picture = Mat.FromPixelData(height, width, MatType.CV_8UC3, pixels);
        var background = new Scalar(200.5, 170.25, 140.0);
        using var mask = PictureRegions.Foreground(picture, background);
        mask.GetArray(out byte[] actual);
        for (int i = 0; i < width * height; i++)
        {
            double distance = 0;
            for (int c = 0; c < 3; c++)
                distance += Math.Round(Math.Abs(pixels[3 * i + c] - background[c]), MidpointRounding.ToEven);
            Assert.Equal(distance > 24 ? 255 : 0, actual[i]);
        }
    }
}
