using LeakHunter.Index.Copies;
using LeakHunter.Index.Matching;

namespace LeakHunter.Crawler.Alerts;

/// <summary>A leak: a found image that matched a registered original, where it was found, and how it was changed.</summary>
[GenerateSerializer, Immutable]
public sealed record MatchRecord(
    [property: Id(0)] string Id,
    [property: Id(1)] string OriginalId,
    [property: Id(2)] string OriginalTitle,
    [property: Id(3)] string TargetId,
    [property: Id(4)] string PageUrl,
    [property: Id(5)] string ImageUrl,
    [property: Id(6)] double Score,
    [property: Id(7)] DateTimeOffset FoundAt,
    [property: Id(8)] MatchTransform? Transform,
    [property: Id(9)] string ImageSha256,
    [property: Id(10)] Attribution? Attribution);

/// <summary>What the crawler hands the ledger: the matcher's result and where the image was found.</summary>
[GenerateSerializer, Immutable]
public sealed record MatchCandidateRecord(
    [property: Id(0)] MatchResult Match,
    [property: Id(1)] string TargetId,
    [property: Id(2)] string PageUrl,
    [property: Id(3)] string ImageUrl,
    [property: Id(4)] DateTimeOffset FoundAt,
    [property: Id(5)] Attribution? Attribution);

/// <summary>Where found images are kept in the blob store.</summary>
public static class FoundImages
{
    public static string BlobKey(string sha256) => $"found/{sha256}";
}
