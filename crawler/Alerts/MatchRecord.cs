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
    [property: Id(10)] Attribution? Attribution,
    [property: Id(11)] string? Review = null,
    [property: Id(12)] DateTimeOffset? ReviewedAt = null,
    [property: Id(13)] string? PageSha256 = null);

/// <summary>The owner's verdict on a match: recorded, shown, and fed into nothing automatically.</summary>
public static class MatchReviews
{
    public const string Confirmed = "confirmed";
    public const string FalseMatch = "false-match";

    public static bool IsValid(string? review) => review is null or Confirmed or FalseMatch;
}

/// <summary>What the crawler hands the ledger: the matcher's result and where the image was found.</summary>
[GenerateSerializer, Immutable]
public sealed record MatchCandidateRecord(
    [property: Id(0)] MatchResult Match,
    [property: Id(1)] string TargetId,
    [property: Id(2)] string PageUrl,
    [property: Id(3)] string ImageUrl,
    [property: Id(4)] DateTimeOffset FoundAt,
    [property: Id(5)] Attribution? Attribution,
    [property: Id(6)] string? PageSha256);

/// <summary>Where found images are kept in the blob store.</summary>
public static class FoundImages
{
    public static string BlobKey(string sha256) => $"found/{sha256}";

    /// <summary>The HTML of a page a match was found on, as fetched (evidence), by the SHA-256 of its bytes.</summary>
    public static string PageBlobKey(string pageSha256) => $"pages/{pageSha256}";
}
