using LeakHunter.Index.Matching;
using OpenCvSharp;

namespace LeakHunter.Index.Tests;

public class RansacTests
{
    /// <summary>A perspective map of a 640x480 query onto an 800x600 original (scale, rotation, slight keystone).</summary>
    private static readonly double[] Truth = [1.1, -0.12, 40, 0.15, 1.05, 25, 0.00012, -0.00008, 1];

    private static Point2f Apply(double[] h, Point2f p)
    {
        double w = h[6] * p.X + h[7] * p.Y + h[8];
        return new Point2f((float)((h[0] * p.X + h[1] * p.Y + h[2]) / w), (float)((h[3] * p.X + h[4] * p.Y + h[5]) / w));
    }

    [Fact]
    public void FitHomography_recovers_an_exact_homography()
    {
        var rng = new Random(7);
        var src = Enumerable.Range(0, 30).Select(_ => new Point2f(rng.Next(640), rng.Next(480))).ToList();
        var dst = src.Select(p => Apply(Truth, p)).ToList();
        var h = Ransac.FitHomography(src, dst, Enumerable.Repeat(true, src.Count).ToArray());
        Assert.NotNull(h);
        foreach (var p in new[] { new Point2f(0, 0), new Point2f(639, 0), new Point2f(0, 479), new Point2f(639, 479), new Point2f(320, 240) })
        {
            var expected = Apply(Truth, p);
            var actual = Apply(h, p);
            Assert.InRange(Math.Abs(actual.X - expected.X), 0, 0.05);
            Assert.InRange(Math.Abs(actual.Y - expected.Y), 0, 0.05);
        }
    }

    [Fact]
    public void Estimate_finds_the_homography_among_outliers_and_marks_them()
    {
        var rng = new Random(11);
        var src = new List<Point2f>();
        var dst = new List<Point2f>();
        for (int i = 0; i < 60; i++)
        {
            var p = new Point2f(rng.Next(640), rng.Next(480));
            src.Add(p);
            var q = Apply(Truth, p);
            // one pair in three is a wrong correspondence; the rest carry a pixel of localisation noise
            dst.Add(i % 3 == 0 ? new Point2f(rng.Next(800), rng.Next(600)) : new Point2f(q.X + (float)(rng.NextDouble() - 0.5), q.Y + (float)(rng.NextDouble() - 0.5)));
        }
        var estimate = Ransac.Estimate(src, dst, 6.0);
        Assert.NotNull(estimate);
        var (h, inliers) = estimate.Value;
        for (int i = 0; i < src.Count; i++)
            if (i % 3 != 0)
                Assert.True(inliers[i], $"pair {i} is a true correspondence");
        Assert.InRange(inliers.Count(x => x), 40, 42); // the true pairs, perhaps a wrong one that lands close by chance
        var corner = Apply(h, new Point2f(639, 479));
        var expected = Apply(Truth, new Point2f(639, 479));
        Assert.InRange(Math.Abs(corner.X - expected.X) + Math.Abs(corner.Y - expected.Y), 0, 2.0);
    }
}
