using LeakHunter.Index.Matching;

namespace LeakHunter.Index.Tests;

/// <summary>
/// One matcher serves every workspace; a crawl asks only among its own workspace's originals.
/// Another workspace's original — even the very same picture — must neither be reported nor
/// hide the eligible one.
/// </summary>
public class EligibleOriginalsTests
{
    [Fact]
    public void The_same_picture_in_two_workspaces_is_found_for_each_and_never_across()
    {
        using var matcher = new CopyMatcher(new MatcherOptions(), null);
        using var scene = TestImages.Scene(300);
        var bytes = TestImages.Jpeg(scene, 95);
        matcher.Register("workspace-a/original", bytes);
        matcher.Register("workspace-b/original", bytes);
        using var other = TestImages.Scene(301);
        matcher.Register("workspace-b/other", TestImages.Jpeg(other, 95));
        using var small = TestImages.Resized(scene, 0.6);
        var copy = TestImages.Jpeg(small, 70);

        foreach (var workspace in new[] { "workspace-a/", "workspace-b/" })
        {
            bool Eligible(string id) => id.StartsWith(workspace, StringComparison.Ordinal);
            Assert.Equal(workspace + "original", matcher.Match(bytes, Eligible)?.OriginalId); // the exact bytes
            Assert.Equal(workspace + "original", matcher.Match(copy, Eligible)?.OriginalId); // a re-encoded copy
        }
        Assert.Null(matcher.Match(copy, id => id == "workspace-b/other"));
        Assert.Null(matcher.Match(copy, _ => false));
    }
}
