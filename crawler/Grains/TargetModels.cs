using LeakHunter.Crawler.Urls;

namespace LeakHunter.Crawler.Grains;

/// <summary>What to crawl: a start URL, how far links may lead, and how many pages at most.</summary>
[GenerateSerializer, Immutable]
public sealed record TargetSpec(
    [property: Id(0)] Uri Url,
    [property: Id(1)] CrawlScopeKind Scope,
    [property: Id(2)] int MaxDepth,
    [property: Id(3)] int MaxPages,
    [property: Id(4)] IReadOnlyList<Uri> Urls,
    [property: Id(5)] string Workspace);

public static class TargetStates
{
    public const string Queued = "queued";
    public const string Running = "running";
    public const string Done = "done";
    public const string Failed = "failed";
}

/// <summary>A target's progress as the API reports it.</summary>
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
    [property: Id(9)] DateTimeOffset? FinishedAt);
