namespace LeakHunter.Crawler.Grains;

public enum JobKind { Page, Sitemaps }

/// <summary>
/// One unit of a crawl handed to a worker: a page to fetch and mine, or the sitemaps of a site to
/// read. <see cref="Attachment"/> marks a page reached from a thumbnail (it holds the full-size image).
/// </summary>
[GenerateSerializer, Immutable]
public sealed record CrawlJob(
    [property: Id(0)] string TargetId,
    [property: Id(1)] string JobId,
    [property: Id(2)] JobKind Kind,
    [property: Id(3)] Uri Url,
    [property: Id(4)] int Depth,
    [property: Id(5)] TargetSpec Spec,
    [property: Id(6)] bool Attachment);

public enum JobResult
{
    /// <summary>The job finished; its links, images and matches are to be committed.</summary>
    Done,
    /// <summary>Finished in part (or not started): commit what is there and run the job again at RetryAt.</summary>
    Retry,
    /// <summary>The page cannot be had (4xx, too large, refused): an error, not retried.</summary>
    Failed,
    /// <summary>robots.txt forbids the page: nothing to do.</summary>
    Disallowed,
}

/// <summary>An image a job dealt with: its validators for the next revisit and what became of it.</summary>
[GenerateSerializer, Immutable]
public sealed record ImageDone(
    [property: Id(0)] string Url,
    [property: Id(1)] string? ETag,
    [property: Id(2)] DateTimeOffset? LastModified,
    [property: Id(3)] string? Sha256,
    [property: Id(4)] bool Unchanged);

/// <summary>A link found by a job and the depth it is to be crawled at.</summary>
[GenerateSerializer, Immutable]
public sealed record FoundLink(
    [property: Id(0)] string Url,
    [property: Id(1)] int Depth,
    [property: Id(2)] bool Attachment);

/// <summary>What a job did, reported back to its target grain, which commits it to durable state.</summary>
[GenerateSerializer, Immutable]
public sealed record CrawlJobOutcome(
    [property: Id(0)] JobResult Result,
    [property: Id(1)] string Silo,
    [property: Id(2)] bool PageFetched,
    [property: Id(3)] IReadOnlyList<FoundLink> Links,
    [property: Id(4)] IReadOnlyList<ImageDone> Images,
    [property: Id(5)] IReadOnlyList<string> MatchKeys,
    [property: Id(6)] int ImagesFetched,
    [property: Id(7)] int ImagesMatched,
    [property: Id(8)] IReadOnlyList<string> Errors,
    [property: Id(9)] DateTimeOffset? RetryAt);

/// <summary>What the target already knows of an image a job wants to fetch: the validators for a conditional request.</summary>
[GenerateSerializer, Immutable]
public sealed record ImageClaim(
    [property: Id(0)] string Url,
    [property: Id(1)] string? ETag,
    [property: Id(2)] DateTimeOffset? LastModified);

/// <summary>
/// Does one crawl job wherever Orleans placed it: a fresh activation per job, placed at random,
/// so every silo of the cluster takes a share of the pages and (through the local match worker)
/// of the matching. Politeness stays with the site grains.
/// </summary>
public interface ICrawlWorkerGrain : IGrainWithStringKey
{
    Task<CrawlJobOutcome> RunAsync(CrawlJob job);
}
