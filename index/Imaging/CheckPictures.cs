using OpenCvSharp;

namespace LeakHunter.Index.Imaging;

/// <summary>
/// Pictures for the first-use checks that compare a step done here with OpenCV's (FAST, ORB detection and
/// description, CLAHE): random noise blurred, then mixed with a share of the noise itself, so that there is
/// structure at several scales, not only pixel noise.
/// </summary>
internal static class CheckPictures
{
    /// <summary>A gray <paramref name="width"/> x <paramref name="height"/> picture from <paramref name="rng"/>: noise blurred by <paramref name="sigma"/>, with <paramref name="noiseShare"/> of the noise added back.</summary>
    public static Mat Textured(Random rng, int width, int height, double sigma, double noiseShare)
    {
        using var noise = new Mat(height, width, MatType.CV_8UC1);
        var values = new byte[width * height];
        rng.NextBytes(values);
        noise.SetArray(values);
        var picture = new Mat();
        Cv2.GaussianBlur(noise, picture, new Size(0, 0), sigma);
        Cv2.AddWeighted(picture, 1 - noiseShare, noise, noiseShare, 0, picture);
        return picture;
    }
}
