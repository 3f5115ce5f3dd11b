using LeakHunter.Index.Matching;
using OpenCvSharp;

namespace LeakHunter.Index.Tests;

/// <summary>A query's thumbnail is made from the gray picture its features use; it must be the one its BGR picture gives.</summary>
public class ThumbnailTests
{
    [Theory]
    [InlineData(640, 480, 256)] // brought down
    [InlineData(200, 90, 256)] // brought up
    public void The_thumbnail_of_the_gray_picture_is_the_thumbnail_of_the_colour_picture(int width, int height, int longSide)
    {
        using var bgr = new Mat(height, width, MatType.CV_8UC3);
        Cv2.Randu(bgr, new Scalar(0, 0, 0), new Scalar(256, 256, 256));
        using var gray = CopyMatcher.Gray(bgr);
        using var fromColour = PixelAgreement.Thumbnail(bgr, longSide);
        using var fromGray = PixelAgreement.Thumbnail(gray, longSide);
        Assert.Equal(fromColour.Size(), fromGray.Size());
        Assert.Equal(1, fromGray.Channels());
        Assert.Equal(0, Cv2.Norm(fromColour, fromGray, NormTypes.INF));
    }
}
