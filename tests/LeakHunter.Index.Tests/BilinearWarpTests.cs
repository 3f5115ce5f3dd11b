using LeakHunter.Index.Imaging;
using LeakHunter.Index.Matching;
using OpenCvSharp;

namespace LeakHunter.Index.Tests;

/// <summary>
/// The whole-frame comparison's warp must be OpenCV's warpPerspective, pixel for pixel: the cell verdicts, and the
/// false-match calibration fitted on them, were measured with OpenCV's.
/// </summary>
public class BilinearWarpTests
{
    [Fact]
    public void Warps_equal_OpenCVs_for_scalings_rotations_and_perspective_at_the_borders_too()
    {
        var rng = new Random(7);
        using var scene = TestImages.Scene(531, 640, 480);
        int checkedPixels = 0;
        for (int trial = 0; trial < 300; trial++)
        {
            using var thumb = PixelAgreement.Thumbnail(scene, rng.Next(40, 257));
            int width = rng.Next(8, 129), height = rng.Next(8, 129);
            double sx = width / (double)thumb.Width * (0.6 + 0.8 * rng.NextDouble()), sy = height / (double)thumb.Height * (0.6 + 0.8 * rng.NextDouble());
            double[] map = (trial % 3) switch
            {
                // the whole-frame comparison's maps: each axis scaled and shifted (partly off the picture)
                0 => [sx, 0, -rng.Next(-20, 20) * sx, 0, sy, -rng.Next(-20, 20) * sy, 0, 0, 1],
                1 => [sx, 0, 0, 0, sy, 0, 0, 0, 1],
                _ => Rotated(sx, sy, (rng.NextDouble() - 0.5) * 0.8, rng.Next(-15, 15), rng.Next(-15, 15), (rng.NextDouble() - 0.5) * 2e-3, (rng.NextDouble() - 0.5) * 2e-3),
            };
            using var h = Mat.FromPixelData(3, 3, MatType.CV_64FC1, map);
            using var expected = new Mat();
            Cv2.WarpPerspective(thumb, expected, h, new Size(width, height), InterpolationFlags.Linear, BorderTypes.Constant, Scalar.All(0));
            var source = MatBytes.Of(thumb);
            var actual = new byte[width * height];
            Assert.True(BilinearWarp.TryWarp(source, thumb.Width, thumb.Height, thumb.Width, map, actual, width, height));
            Assert.Equal(MatBytes.Of(expected), actual);
            checkedPixels += actual.Length;
        }
        Assert.True(checkedPixels > 300 * 1000);
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(7, 1)]
    [InlineData(1, 7)]
    [InlineData(40, 2)]
    [InlineData(2, 40)]
    [InlineData(9, 3)]
    public void Sources_a_few_pixels_thin_warp_as_OpenCVs(int width, int height)
    {
        // The picture is the start of a larger buffer of bright noise: a read past its last row would show.
        var buffer = new byte[width * height + 64];
        new Random(width * 31 + height).NextBytes(buffer);
        buffer.AsSpan(width * height).Fill(255);
        var source = buffer.AsSpan(0, width * height);
        using var thumb = Mat.FromPixelData(height, width, MatType.CV_8UC1, source.ToArray());
        foreach (var (outWidth, outHeight) in new[] { (16, 16), (64, 24), (9, 40) })
        {
            double[] map = [outWidth / (double)width, 0, 0.3, 0, outHeight / (double)height, -0.2, 0, 0, 1];
            using var h = Mat.FromPixelData(3, 3, MatType.CV_64FC1, map);
            using var expected = new Mat();
            Cv2.WarpPerspective(thumb, expected, h, new Size(outWidth, outHeight), InterpolationFlags.Linear, BorderTypes.Constant, Scalar.All(0));
            var actual = new byte[outWidth * outHeight];
            Assert.True(BilinearWarp.TryWarp(source, width, height, width, map, actual, outWidth, outHeight));
            Assert.Equal(MatBytes.Of(expected), actual);
        }
    }

    [Fact]
    public void A_singular_map_is_refused()
    {
        var source = new byte[16 * 16];
        Assert.False(BilinearWarp.TryWarp(source, 16, 16, 16, [1, 2, 0, 2, 4, 0, 0, 0, 1], new byte[64], 8, 8));
    }

    private static double[] Rotated(double sx, double sy, double angle, double tx, double ty, double px, double py) =>
        [sx * Math.Cos(angle), -sx * Math.Sin(angle), tx, sy * Math.Sin(angle), sy * Math.Cos(angle), ty, px, py, 1];
}
