using LeakHunter.Crawler.Fetching;

namespace LeakHunter.Crawler.Grains;

public enum FetchPurpose { Page, Image }

/// <summary>A fetch through a site grain: the URL, and the scope a redirect must stay in (pages only).</summary>
[GenerateSerializer, Immutable]
public sealed record SiteFetchRequest(
    [property: Id(0)] Uri Url,
    [property: Id(1)] FetchPurpose Purpose,
    [property: Id(2)] TargetSpec? Scope);

/// <summary>The result of a fetch; <see cref="Disallowed"/> when robots.txt forbids the URL.</summary>
[GenerateSerializer, Immutable]
public sealed record SiteFetchResponse(
    [property: Id(0)] Uri FinalUrl,
    [property: Id(1)] FetchStatus Status,
    [property: Id(2)] int StatusCode,
    [property: Id(3)] string? MediaType,
    [property: Id(4)] byte[]? Body,
    [property: Id(5)] string? Error,
    [property: Id(6)] bool Disallowed,
    [property: Id(7)] string? ContentTypeHeader);

/// <summary>
/// One site (scheme + host + port): owns its robots.txt rules and crawl delay, and sends one
/// request at a time. Orleans runs one activation per key in the whole cluster and its calls one
/// after another, so politeness holds everywhere without locks.
/// </summary>
public interface ISiteGrain : IGrainWithStringKey
{
    Task<SiteFetchResponse> FetchAsync(SiteFetchRequest request);
}

public static class SiteKeys
{
    /// <summary>The grain key of the site serving a URL: scheme://host:port.</summary>
    public static string Of(Uri url) => $"{url.Scheme}://{url.IdnHost}:{url.Port}".ToLowerInvariant();
}
