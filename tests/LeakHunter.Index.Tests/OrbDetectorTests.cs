using System.Runtime.Intrinsics.X86;
using LeakHunter.Index.Matching;
using OpenCvSharp;

namespace LeakHunter.Index.Tests;

/// <summary>
/// ORB keypoints detected here must be OpenCV's, to the bit and in OpenCV's order: originals registered earlier were
/// detected by OpenCV, and the order decides ties later on (selection per grid cell, descriptor matching).
/// </summary>
public class OrbDetectorTests
{
    [Theory]
    [InlineData(3000, 6, 640, 480)] // a query's parameters
    [InlineData(2000, 8, 800, 600)] // an original's
    [InlineData(3000, 6, 250, 180)] // a small query, as most unrelated ones are
    public void Keypoints_equal_OpenCVs_in_value_and_order(int features, int levels, int width, int height)
    {
        Assert.Equal(Avx2.IsSupported, OrbDetector.Available);
        if (!OrbDetector.Available)
            return; // OpenCV's ORB detects itself
        using var scene = TestImages.Scene(531, width, height);
        using var gray = CopyMatcher.FeatureGray(scene);
        using var orb = OrbDetector.CreateOpenCvOrb(features, levels, CopyMatcher.FastThreshold);
        var theirs = orb.Detect(gray);
        var ours = OrbDetector.TryDetect(gray, features, levels, CopyMatcher.FastThreshold);
        Assert.NotNull(ours);
        Assert.True(theirs.Length > 100, $"only {theirs.Length} keypoints");
        Assert.Equal(theirs.Select(k => (k.Pt, k.Response, k.Angle, k.Octave, k.Size)), ours.Select(k => (k.Pt, k.Response, k.Angle, k.Octave, k.Size)));
    }

    [Fact]
    public void Strongest_keypoints_come_first_and_equal_ones_in_detection_order()
    {
        float[] responses = [0.5f, -1f, 2f, 0.5f, 0f, -0f, float.MaxValue, -3e-5f, 2f];
        var keypoints = responses.Select((r, i) => new KeyPoint(new Point2f(i, 0), 7, -1, r)).ToArray();
        var expected = Enumerable.Range(0, keypoints.Length).ToArray();
        Array.Sort(expected, (a, b) => keypoints[b].Response.CompareTo(keypoints[a].Response) is var c and not 0 ? c : a.CompareTo(b));
        Assert.Equal(expected, FeatureSet.StrongestFirst(keypoints));
        Assert.Equal([6, 2, 8, 0, 3, 4, 5, 7, 1], FeatureSet.StrongestFirst(keypoints));
    }

    [Fact]
    public void FastAtan2_is_OpenCVs_polynomial_in_degrees()
    {
        Assert.Equal(0f, OrbDetector.FastAtan2(0, 0));
        Assert.Equal(90f, OrbDetector.FastAtan2(1, 0), 3);
        Assert.Equal(180f, OrbDetector.FastAtan2(0, -1), 3);
        Assert.Equal(270f, OrbDetector.FastAtan2(-1, 0), 3);
        for (int i = 0; i < 360; i += 7)
        {
            double radians = i * Math.PI / 180;
            float angle = OrbDetector.FastAtan2((float)(100 * Math.Sin(radians)), (float)(100 * Math.Cos(radians)));
            Assert.InRange(Math.Abs(angle - i) % 360, 0, 0.3);
        }
    }
}

/// <summary>FAST corners found here must be OpenCV's: positions, scores and order (ORB's selection depends on all three).</summary>
public class FastCornersTests
{
    [Theory]
    [InlineData(7, 640, 480)]
    [InlineData(20, 333, 251)] // rows of no whole number of 64-pixel blocks
    [InlineData(7, 66, 40)] // rows too narrow for any block
    public void Corners_equal_OpenCVs(int threshold, int width, int height)
    {
        Assert.Equal(System.Runtime.Intrinsics.X86.Avx512BW.IsSupported, FastCorners.Available);
        if (!FastCorners.Available)
            return; // OpenCV's FAST is used
        using var scene = TestImages.Scene(532, width, height);
        using var gray = CopyMatcher.FeatureGray(scene);
        var theirs = Cv2.FAST(gray, threshold, true);
        var ours = FastCorners.Detect(gray, threshold);
        Assert.True(theirs.Length > 10, $"only {theirs.Length} corners");
        Assert.Equal(theirs.Select(k => (k.Pt, k.Response, k.Size, k.Angle, k.Octave)), ours.Select(k => (k.Pt, k.Response, k.Size, k.Angle, k.Octave)));
    }

    [Fact]
    public void A_threshold_of_zero_is_refused()
    {
        using var gray = new Mat(20, 20, MatType.CV_8UC1, Scalar.All(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => FastCorners.Detect(gray, 0));
    }
}
