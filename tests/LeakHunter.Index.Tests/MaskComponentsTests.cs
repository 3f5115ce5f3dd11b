using LeakHunter.Index.Imaging;
using OpenCvSharp;

namespace LeakHunter.Index.Tests;

/// <summary>The page search's components must be OpenCV's: the same boxes and pixel counts, 8-connected.</summary>
public class MaskComponentsTests
{
    [Fact]
    public void Boxes_and_areas_equal_OpenCVs_on_blobs_stripes_diagonals_and_noise()
    {
        var rng = new Random(3);
        for (int trial = 0; trial < 200; trial++)
        {
            int width = rng.Next(1, 200), height = rng.Next(1, 150);
            using var mask = new Mat(height, width, MatType.CV_8UC1, Scalar.All(0));
            switch (trial % 4)
            {
                case 0: // scattered pixels: many components touching only at corners
                    for (int i = 0; i < width * height / 3; i++) mask.Set(rng.Next(height), rng.Next(width), (byte)255);
                    break;
                case 1: // blocks that overlap, nest and touch
                    for (int i = 0; i < 12; i++)
                        Cv2.Rectangle(mask, new Rect(rng.Next(width), rng.Next(height), rng.Next(1, 40), rng.Next(1, 40)), Scalar.All(255), rng.Next(2) == 0 ? -1 : 1);
                    break;
                case 2: // diagonal lines: joined only through corners
                    for (int i = 0; i < 6; i++)
                        Cv2.Line(mask, new Point(rng.Next(width), rng.Next(height)), new Point(rng.Next(width), rng.Next(height)), Scalar.All(255), 1, LineTypes.Link8);
                    break;
                default: // U shapes and combs: separate runs that join further down
                    for (int x = 0; x < width; x += 4) Cv2.Line(mask, new Point(x, 0), new Point(x, height / 2), Scalar.All(200));
                    Cv2.Line(mask, new Point(0, height / 2), new Point(width - 1, height / 2), Scalar.All(200));
                    mask.Set(height - 1, width - 1, (byte)1);
                    break;
            }
            using var labels = new Mat();
            using var stats = new Mat();
            using var centroids = new Mat();
            int count = Cv2.ConnectedComponentsWithStats(mask, labels, stats, centroids, PixelConnectivity.Connectivity8);
            var expected = Enumerable.Range(1, count - 1)
                .Select(i => (new Rect(stats.At<int>(i, 0), stats.At<int>(i, 1), stats.At<int>(i, 2), stats.At<int>(i, 3)), stats.At<int>(i, 4)))
                .OrderBy(c => c.Item1.Y).ThenBy(c => c.Item1.X).ThenBy(c => c.Item2).ToList();
            var found = MaskComponents.Find(mask);
            var actual = found.Select(c => (c.Box, c.Area)).OrderBy(c => c.Box.Y).ThenBy(c => c.Box.X).ThenBy(c => c.Area).ToList();
            Assert.Equal(expected, actual);
        }
    }

    [Fact]
    public void Components_come_in_the_raster_order_of_their_first_pixel()
    {
        using var mask = new Mat(10, 10, MatType.CV_8UC1, Scalar.All(0));
        mask.Set(5, 1, (byte)255); // found second: its first pixel is on row 5
        mask.Set(2, 8, (byte)255); // found first
        Cv2.Line(mask, new Point(6, 9), new Point(9, 6), Scalar.All(255), 1, LineTypes.Link8); // an anti-diagonal, first pixel (9, 6)
        Assert.Equal([new Rect(8, 2, 1, 1), new Rect(1, 5, 1, 1), new Rect(6, 6, 4, 4)], MaskComponents.Find(mask).Select(c => c.Box));
    }

    [Fact]
    public void A_mask_that_is_not_8_bit_gray_is_refused()
    {
        using var color = new Mat(4, 4, MatType.CV_8UC3);
        Assert.Throws<ArgumentException>(() => MaskComponents.Find(color));
    }
}
