using LeakHunter.Index.Matching;
using OpenCvSharp;

namespace LeakHunter.Index.Tests;

public class FeatureSetTests
{
    /// <summary>
    /// Features are detected first and only the kept ones described: each kept feature's descriptor must be the one
    /// ORB gives that keypoint when it detects and describes everything in one call (the originals registered
    /// before were fingerprinted that way, and their descriptors must stay comparable).
    /// </summary>
    [Fact]
    public void Describing_only_the_kept_keypoints_gives_the_descriptors_of_describing_them_all()
    {
        using var scene = TestImages.Scene(3);
        using var gray = CopyMatcher.FeatureGray(scene);
        var kept = FeatureSet.DetectQuery(gray, maxFeatures: 300, fastThreshold: 7, cellShare: 1.0, out var keypoints);
        Assert.Equal(300, kept.Count);
        Assert.Equal(kept.Count, keypoints.Length);

        using var orb = ORB.Create(600, 1.2f, 6, 31, 0, 2, ORBScoreType.Harris, 31, 7);
        using var all = new Mat();
        orb.DetectAndCompute(gray, null, out var everyKeypoint, all);
        var allBytes = Imaging.MatBytes.Of(all);
        var byPlace = new Dictionary<(float, float, int), int>();
        for (int i = 0; i < everyKeypoint.Length; i++)
            byPlace.TryAdd((everyKeypoint[i].Pt.X, everyKeypoint[i].Pt.Y, everyKeypoint[i].Octave), i);

        for (int k = 0; k < kept.Count; k++)
        {
            Assert.Equal(keypoints[k].Pt.X, kept.X[k]);
            Assert.True(byPlace.TryGetValue((keypoints[k].Pt.X, keypoints[k].Pt.Y, keypoints[k].Octave), out int i), $"feature {k} is not among the detected ones");
            Assert.Equal(allBytes.AsSpan(i * FeatureSet.DescriptorBytes, FeatureSet.DescriptorBytes).ToArray(),
                kept.Descriptors.AsSpan(k * FeatureSet.DescriptorBytes, FeatureSet.DescriptorBytes).ToArray());
        }
    }
}
