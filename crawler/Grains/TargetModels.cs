using LeakHunter.Crawler.Urls;

namespace LeakHunter.Crawler.Grains;

/// <summary>
/// What to crawl: a start URL, how far links may lead, how many pages at most, and, when
/// <see cref="RevisitMinutes"/> is above zero, how long after a round finishes the next begins
/// (a revisit fetches only images that are new or changed).
/// </summary>
[GenerateSerializer, Immutable]
public sealed record TargetSpec(
    [property: Id(0)] Uri Url,
    [property: Id(1)] CrawlScopeKind Scope,
    [property: Id(2)] int MaxDepth,
    [property: Id(3)] int MaxPages,
    [property: Id(4)] IReadOnlyList<Uri> Urls,
    [property: Id(5)] string Workspace,
    [property: Id(6)] double RevisitMinutes = 0);

public static class TargetStates
{
    public const string Queued = "queued";
    public const string Running = "running";
    public const string Done = "done";
    public const string Failed = "failed";
}

/// <summary>
/// A target's progress as the API reports it. <see cref="PagesBySilo"/> and <see cref="ImagesBySilo"/>
/// tell which silo (by its endpoint, host:port) did how much of this target's work, all rounds together.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record TargetProgress(
    [property: Id(0)] string Id,
    [property: Id(1)] TargetSpec Spec,
    [property: Id(2)] string State,
    [property: Id(3)] int PagesFetched,
    [property: Id(4)] int ImagesSeen,
    [property: Id(5)] int Matches,
    [property: Id(6)] int Errors,
    [property: Id(7)] string? LastError,
    [property: Id(8)] DateTimeOffset CreatedAt,
    [property: Id(9)] DateTimeOffset? FinishedAt,
    [property: Id(10)] int Round = 1,
    [property: Id(11)] DateTimeOffset? NextRevisitAt = null,
    [property: Id(12)] int ImagesFetched = 0,
    [property: Id(13)] int ImagesUnchanged = 0,
    [property: Id(14)] IReadOnlyDictionary<string, int>? PagesBySilo = null,
    [property: Id(15)] IReadOnlyDictionary<string, int>? ImagesBySilo = null,
    [property: Id(16)] int PagesInFlight = 0,
    [property: Id(17)] int Frontier = 0,
    [property: Id(18)] string? Silo = null);
