using LeakHunter.Index.Imaging;
using OpenCvSharp;

namespace LeakHunter.Index.Tests;

/// <summary>The equalisation features are detected on must be OpenCV's CLAHE to the bit: originals registered earlier were equalised by OpenCV.</summary>
public class ClaheTests
{
    [Theory]
    [InlineData(640, 480)] // on the 8x8 grid
    [InlineData(251, 187)] // off it: OpenCV pads by reflection before its tiles' histograms
    [InlineData(640, 477)] // off it in one direction only: OpenCV then pads a whole tile in the other
    [InlineData(33, 40)]
    public void Equalisation_equals_OpenCVs(int width, int height)
    {
        Assert.True(Clahe.Available);
        using var scene = TestImages.Scene(533, width, height);
        using var gray = new Mat();
        Cv2.CvtColor(scene, gray, ColorConversionCodes.BGR2GRAY);
        using var opencv = Cv2.CreateCLAHE(2.0, new Size(8, 8));
        using var theirs = new Mat();
        opencv.Apply(gray, theirs);
        using var ours = Clahe.Apply(gray);
        Assert.Equal(MatBytes.Of(theirs), MatBytes.Of(ours));
    }
}
