using System.Runtime.Intrinsics.X86;
using LeakHunter.Index.Matching;
using OpenCvSharp;

namespace LeakHunter.Index.Tests;

/// <summary>ORB descriptors computed here must be OpenCV's, bit for bit and in OpenCV's order: originals registered earlier were described by OpenCV.</summary>
public class OrbDescriptorsTests
{
    [Fact]
    public void Descriptors_and_kept_keypoints_equal_OpenCVs_on_a_query_and_its_mirror()
    {
        Assert.Equal(Avx2.IsSupported, OrbDescriptors.Available);
        if (!OrbDescriptors.Available)
            return; // OpenCV's ORB describes the keypoints itself
        using var scene = TestImages.Scene(530, 640, 480);
        using var gray = CopyMatcher.FeatureGray(scene);
        using var orb = ORB.Create(3000, 1.2f, 6, 31, 0, 2, ORBScoreType.Harris, 31, 7);
        var detected = orb.Detect(gray);
        Assert.True(detected.Length > 500);
        // Keypoints near the border (dropped by both) and at every level, in detection order and reversed.
        foreach (var keypoints in new[] { detected, detected.Reverse().ToArray(),
                     detected.Select(k => new KeyPoint(new Point2f(gray.Width - 1 - k.Pt.X, k.Pt.Y), k.Size, (540f - k.Angle) % 360f, k.Response, k.Octave)).ToArray() })
        {
            var theirs = keypoints.ToArray();
            using var expected = new Mat();
            orb.Compute(gray, ref theirs, expected);
            var (kept, descriptors) = OrbDescriptors.TryCompute(gray, keypoints)!.Value;
            Assert.Equal(theirs.Select(k => (k.Pt, k.Octave)), kept.Select(k => (k.Pt, k.Octave)));
            expected.GetArray(out byte[] expectedBytes);
            Assert.Equal(expectedBytes, descriptors);
        }
    }
}
