using LeakHunter.Crawler.Fetching;
using LeakHunter.Crawler.Robots;
using LeakHunter.Crawler.Urls;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Runtime;

namespace LeakHunter.Crawler.Grains;

/// <summary>
/// Politeness for one site. Calls are not reentrant, so while one fetch (and the delay before
/// it) is awaited, the next request waits in the grain's queue: one request at a time per host
/// across the whole cluster, at least <see cref="CrawlerOptions.MinDelayPerHost"/> (or robots.txt's
/// Crawl-delay) apart. 429 and 503 push the next request back by Retry-After; a host that keeps
/// failing is paused, with pauses doubling; waits longer than <see cref="CrawlerOptions.MaxInlineWait"/>
/// are handed back to the caller as <see cref="FetchStatus.Deferred"/> rather than held here.
/// </summary>
public sealed class SiteGrain(WebFetcher fetcher, IOptions<CrawlerOptions> options, TimeProvider clock, ILogger<SiteGrain> logger)
    : Grain, ISiteGrain
{
    /// <summary>RFC 9309 §2.4: a cached robots.txt should not be used for more than 24 hours.</summary>
    private static readonly TimeSpan RobotsMaxLifetime = TimeSpan.FromHours(24);
    private static readonly TimeSpan RobotsMinLifetime = TimeSpan.FromMinutes(1);
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromHours(1);

    private RobotsRules? robots;
    private bool robotsUnavailable;
    private DateTimeOffset robotsExpiresAt;
    private DateTimeOffset nextRequestAt;
    private int consecutiveFailures;
    private int pauses;

    private CrawlerOptions Options => options.Value;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        // This host may have been fetched a moment ago by an activation on a silo that has since
        // died: wait one delay before the first request so the spacing holds across that handover.
        nextRequestAt = clock.GetUtcNow() + Options.MinDelayPerHost;
        return Task.CompletedTask;
    }

    public async Task<SiteFetchResponse> FetchAsync(SiteFetchRequest request)
    {
        if (Deferral() is { } early) return early;
        var rules = await GetRobotsAsync();
        if (robotsUnavailable)
            return Deferred(robotsExpiresAt, "robots.txt is unreachable or answers 5xx: not crawling for now");
        if (!rules.IsAllowed(request.Url))
            return new(request.Url, FetchStatus.Refused, 0, null, null, "disallowed by robots.txt", Disallowed: true, null);
        if (Deferral() is { } late) return late;

        var maxBytes = request.Purpose == FetchPurpose.Image ? Options.MaxImageBytes : Options.MaxPageBytes;
        var result = await PoliteFetchAsync(request.Url, maxBytes, next => RedirectDecisionFor(next, request, rules),
            request.ETag, request.LastModified, request.RedirectsSoFar);
        if (result.Status == FetchStatus.HttpError && result.StatusCode is 429 or 503)
            return Deferred(nextRequestAt, $"HTTP {result.StatusCode}: retrying after {(nextRequestAt - clock.GetUtcNow()).TotalSeconds:0.#} s");
        return new(result.FinalUrl, result.Status, result.StatusCode, result.MediaType, result.Body, result.Error,
            Disallowed: false, result.ContentTypeHeader, result.ETag, result.LastModified, null, result.Redirects);
    }

    public async Task<IReadOnlyList<Uri>> GetSitemapsAsync()
    {
        if (Deferral() is not null) return [];
        var rules = await GetRobotsAsync();
        return robotsUnavailable ? [] : rules.Sitemaps;
    }

    /// <summary>When the host is not to be asked for longer than we are willing to hold a caller.</summary>
    private SiteFetchResponse? Deferral()
    {
        var wait = nextRequestAt - clock.GetUtcNow();
        return wait > Options.MaxInlineWait ? Deferred(nextRequestAt, consecutiveFailures >= Options.PauseHostAfterFailures
            ? $"host paused after {consecutiveFailures} failures in a row" : "host asked us to wait") : null;
    }

    private SiteFetchResponse Deferred(DateTimeOffset until, string why) =>
        new(new Uri(this.GetPrimaryKeyString()), FetchStatus.Deferred, 0, null, null, why, Disallowed: false, null, RetryAt: until);

    /// <summary>
    /// A redirect must stay within the target's scope (pages) and the robots rules of the site it
    /// leads to: on this site it is checked and followed here; to another site it is handed back, so
    /// that site's grain checks its own robots.txt and keeps its own pace.
    /// </summary>
    private RedirectDecision RedirectDecisionFor(Uri next, SiteFetchRequest request, RobotsRules rules)
    {
        if (request.Purpose == FetchPurpose.Page && request.Scope is { } scope && !CrawlScope.IsInScope(next, scope.Url, scope.Scope, scope.Urls))
            return RedirectDecision.Refuse;
        if (SiteKeys.Of(next) != this.GetPrimaryKeyString()) return RedirectDecision.HandOff;
        return rules.IsAllowed(next) ? RedirectDecision.Follow : RedirectDecision.Refuse;
    }

    private async Task<RobotsRules> GetRobotsAsync()
    {
        if (robots is not null && clock.GetUtcNow() < robotsExpiresAt) return robots;
        var robotsUrl = new Uri(new Uri(this.GetPrimaryKeyString()), "/robots.txt");
        // Redirects of robots.txt are followed on this host only (RFC 9309 allows up to five).
        var result = await PoliteFetchAsync(robotsUrl, RobotsRules.MaxBytes,
            next => SiteKeys.Of(next) == this.GetPrimaryKeyString() ? RedirectDecision.Follow : RedirectDecision.Refuse, null, null, 0);
        TimeSpan lifetime;
        (robots, robotsUnavailable, lifetime) = result switch
        {
            { Status: FetchStatus.Ok, Body: { } body } =>
                (RobotsRules.Parse(PageText.Decode(body, result.ContentTypeHeader), Options.UserAgentToken), false, RobotsLifetime(result.MaxAge)),
            // RFC 9309 §2.3.1: 4xx means there are no rules; 5xx or unreachable means "don't crawl for now".
            { Status: FetchStatus.HttpError or FetchStatus.OutOfScope, StatusCode: >= 400 and < 500 and not 429 } => (RobotsRules.AllowAll, false, RobotsMaxLifetime),
            { Status: FetchStatus.TooLarge } => (RobotsRules.AllowAll, false, RobotsMaxLifetime),
            _ => (RobotsRules.DisallowAll, true, Options.RobotsRetryAfterServerError),
        };
        robotsExpiresAt = clock.GetUtcNow() + lifetime;
        logger.LogDebug("robots.txt of {Site}: {Status} {Code}, kept for {Lifetime}", this.GetPrimaryKeyString(), result.Status, result.StatusCode, lifetime);
        return robots;
    }

    private static TimeSpan RobotsLifetime(TimeSpan? maxAge) => maxAge switch
    {
        null => RobotsMaxLifetime,
        { } age when age < RobotsMinLifetime => RobotsMinLifetime,
        { } age when age > RobotsMaxLifetime => RobotsMaxLifetime,
        { } age => age,
    };

    /// <summary>Waits for this site's turn, fetches, and sets when the next request may go.</summary>
    private async Task<FetchResult> PoliteFetchAsync(Uri url, long maxBytes, Func<Uri, RedirectDecision> redirectPolicy,
        string? etag, DateTimeOffset? lastModified, int redirectsSoFar)
    {
        // Timers count whole milliseconds and may wake a little early: wait until the moment has truly passed.
        for (var wait = nextRequestAt - clock.GetUtcNow(); wait > TimeSpan.Zero; wait = nextRequestAt - clock.GetUtcNow())
            await Task.Delay(TimeSpan.FromMilliseconds(Math.Ceiling(wait.TotalMilliseconds) + 1), clock);
        FetchResult result;
        try
        {
            result = await fetcher.FetchAsync(url, maxBytes, redirectPolicy, etag, lastModified, redirectsSoFar, CancellationToken.None);
        }
        finally
        {
            var delay = Options.MinDelayPerHost;
            if (robots?.CrawlDelay is { } crawlDelay && crawlDelay > delay) delay = crawlDelay;
            nextRequestAt = clock.GetUtcNow() + delay;
        }
        var now = clock.GetUtcNow();
        if (result.StatusCode is 429 or 503)
        {
            // Slow down as asked: Retry-After (capped at an hour), or a minute.
            var backoff = result.RetryAfter ?? TimeSpan.FromMinutes(1);
            nextRequestAt = Max(nextRequestAt, now + (backoff > MaxBackoff ? MaxBackoff : backoff));
        }
        if (result.Status is FetchStatus.NetworkError or FetchStatus.Timeout || result.StatusCode >= 500)
        {
            if (++consecutiveFailures >= Options.PauseHostAfterFailures)
            {
                var pause = Options.HostPause * Math.Pow(2, Math.Min(pauses++, 10));
                if (pause > MaxBackoff) pause = MaxBackoff;
                nextRequestAt = Max(nextRequestAt, now + pause);
                logger.LogWarning("Pausing {Site} for {Pause} after {Failures} failures in a row: {Error}",
                    this.GetPrimaryKeyString(), pause, consecutiveFailures, result.Error);
            }
        }
        else if (result.Status is FetchStatus.Ok or FetchStatus.NotModified || result.StatusCode is >= 200 and < 500)
        {
            consecutiveFailures = 0;
            pauses = 0;
        }
        return result;
    }

    private static DateTimeOffset Max(DateTimeOffset a, DateTimeOffset b) => a > b ? a : b;
}
