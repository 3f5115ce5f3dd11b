using LeakHunter.Crawler.Fetching;

namespace LeakHunter.Crawler.Grains;

public enum FetchPurpose { Page, Image, Sitemap }

/// <summary>
/// A fetch through a site grain: the URL, the scope a redirect must stay in (pages only), the
/// validators of the copy fetched before (a revisit asks "changed since?"), and the redirects
/// already taken on other sites (a chain is capped as a whole).
/// </summary>
[GenerateSerializer, Immutable]
public sealed record SiteFetchRequest(
    [property: Id(0)] Uri Url,
    [property: Id(1)] FetchPurpose Purpose,
    [property: Id(2)] TargetSpec? Scope,
    [property: Id(3)] string? ETag = null,
    [property: Id(4)] DateTimeOffset? LastModified = null,
    [property: Id(5)] int RedirectsSoFar = 0);

/// <summary>
/// The result of a fetch; <see cref="Disallowed"/> when robots.txt forbids the URL. Status
/// <see cref="FetchStatus.Redirect"/>: continue at <see cref="FinalUrl"/> through that site's grain.
/// <see cref="FetchStatus.Deferred"/>: try again at <see cref="RetryAt"/>.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record SiteFetchResponse(
    [property: Id(0)] Uri FinalUrl,
    [property: Id(1)] FetchStatus Status,
    [property: Id(2)] int StatusCode,
    [property: Id(3)] string? MediaType,
    [property: Id(4)] byte[]? Body,
    [property: Id(5)] string? Error,
    [property: Id(6)] bool Disallowed,
    [property: Id(7)] string? ContentTypeHeader,
    [property: Id(8)] string? ETag = null,
    [property: Id(9)] DateTimeOffset? LastModified = null,
    [property: Id(10)] DateTimeOffset? RetryAt = null,
    [property: Id(11)] int Redirects = 0);

/// <summary>
/// One site (scheme + host + port): owns its robots.txt rules and crawl delay, and sends one
/// request at a time. Orleans runs one activation per key in the whole cluster and its calls one
/// after another, so politeness holds everywhere without locks.
/// </summary>
public interface ISiteGrain : IGrainWithStringKey
{
    Task<SiteFetchResponse> FetchAsync(SiteFetchRequest request);

    /// <summary>The sitemaps robots.txt names (empty while robots.txt is unreachable).</summary>
    Task<IReadOnlyList<Uri>> GetSitemapsAsync();
}

public static class SiteKeys
{
    /// <summary>The grain key of the site serving a URL: scheme://host:port.</summary>
    public static string Of(Uri url) => $"{url.Scheme}://{url.IdnHost}:{url.Port}".ToLowerInvariant();
}
