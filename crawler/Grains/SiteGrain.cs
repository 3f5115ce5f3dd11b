using LeakHunter.Crawler.Fetching;
using LeakHunter.Crawler.Robots;
using LeakHunter.Crawler.Urls;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace LeakHunter.Crawler.Grains;

/// <summary>
/// Politeness for one site. Calls are not reentrant, so while one fetch (and the delay before
/// it) is awaited, the next request waits in the grain's queue.
/// </summary>
public sealed class SiteGrain(WebFetcher fetcher, IOptions<CrawlerOptions> options, TimeProvider clock, ILogger<SiteGrain> logger)
    : Grain, ISiteGrain
{
    private static readonly TimeSpan RobotsLifetime = TimeSpan.FromHours(24);
    private static readonly TimeSpan RobotsRetryAfterServerError = TimeSpan.FromMinutes(10);

    private RobotsRules? robots;
    private DateTimeOffset robotsExpiresAt;
    private DateTimeOffset nextRequestAt;

    private CrawlerOptions Options => options.Value;

    public async Task<SiteFetchResponse> FetchAsync(SiteFetchRequest request)
    {
        var rules = await GetRobotsAsync();
        if (!rules.IsAllowed(request.Url))
            return new(request.Url, FetchStatus.Refused, 0, null, null, "disallowed by robots.txt", Disallowed: true, null);

        var maxBytes = request.Purpose == FetchPurpose.Page ? Options.MaxPageBytes : Options.MaxImageBytes;
        var result = await PoliteFetchAsync(request.Url, maxBytes, next => RedirectAllowed(next, request, rules));
        return new(result.FinalUrl, result.Status, result.StatusCode, result.MediaType, result.Body, result.Error,
            Disallowed: false, result.ContentTypeHeader);
    }

    /// <summary>A redirect must stay within the target's scope (pages) and, on this site, within robots.txt.</summary>
    private static bool RedirectAllowed(Uri next, SiteFetchRequest request, RobotsRules rules)
    {
        if (SiteKeys.Of(next) == SiteKeys.Of(request.Url) && !rules.IsAllowed(next)) return false;
        if (request.Purpose == FetchPurpose.Page && request.Scope is { } scope)
            return CrawlScope.IsInScope(next, scope.Url, scope.Scope, scope.Urls);
        return true;
    }

    private async Task<RobotsRules> GetRobotsAsync()
    {
        if (robots is not null && clock.GetUtcNow() < robotsExpiresAt) return robots;
        var robotsUrl = new Uri(new Uri(this.GetPrimaryKeyString()), "/robots.txt");
        var result = await PoliteFetchAsync(robotsUrl, Options.MaxPageBytes, allowRedirect: null);
        (robots, var lifetime) = result switch
        {
            { Status: FetchStatus.Ok, Body: { } body } => (RobotsRules.Parse(PageText.Decode(body, result.ContentTypeHeader), Options.UserAgentToken), RobotsLifetime),
            // RFC 9309: 4xx means there are no rules; 5xx or unreachable means "don't crawl for now".
            { StatusCode: >= 400 and < 500 } => (RobotsRules.AllowAll, RobotsLifetime),
            _ => (RobotsRules.DisallowAll, RobotsRetryAfterServerError),
        };
        robotsExpiresAt = clock.GetUtcNow() + lifetime;
        logger.LogDebug("robots.txt of {Site}: {Status}", this.GetPrimaryKeyString(), result.Status);
        return robots;
    }

    /// <summary>Waits for this site's turn, fetches, and sets when the next request may go.</summary>
    private async Task<FetchResult> PoliteFetchAsync(Uri url, long maxBytes, Func<Uri, bool>? allowRedirect)
    {
        var wait = nextRequestAt - clock.GetUtcNow();
        if (wait > TimeSpan.Zero) await Task.Delay(wait, clock);
        FetchResult result;
        try
        {
            result = await fetcher.FetchAsync(url, maxBytes, allowRedirect, null, null, CancellationToken.None);
        }
        finally
        {
            var delay = Options.MinDelayPerHost;
            if (robots?.CrawlDelay is { } crawlDelay && crawlDelay > delay) delay = crawlDelay;
            nextRequestAt = clock.GetUtcNow() + delay;
        }
        // 429 and 503 ask us to slow down: honour Retry-After (capped), or back off a minute.
        if (result.StatusCode is 429 or 503)
        {
            var backoff = result.RetryAfter ?? TimeSpan.FromMinutes(1);
            if (backoff > TimeSpan.FromHours(1)) backoff = TimeSpan.FromHours(1);
            nextRequestAt = clock.GetUtcNow() + backoff;
        }
        return result;
    }
}
