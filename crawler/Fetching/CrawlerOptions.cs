namespace LeakHunter.Crawler.Fetching;

/// <summary>How the crawler fetches, bound from configuration section "Crawler".</summary>
public sealed class CrawlerOptions
{
    /// <summary>Sent with every request: says who we are and where to read about us.</summary>
    public string UserAgent { get; set; } = "LeakHunterBot/0.1 (+https://github.com/leakhunter/leakhunter)";

    /// <summary>The product token robots.txt groups are matched against.</summary>
    public string UserAgentToken { get; set; } = "LeakHunterBot";

    /// <summary>Least time between two requests to one host (robots.txt Crawl-delay may lengthen it).</summary>
    public TimeSpan MinDelayPerHost { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Lets the crawler reach loopback, private and link-local addresses (tests, intranets). Off by default: SSRF.</summary>
    public bool AllowPrivateAddresses { get; set; }

    public long MaxPageBytes { get; set; } = 5 * 1024 * 1024;
    public long MaxImageBytes { get; set; } = 20 * 1024 * 1024;
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(10);
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(30);
    public int MaxRedirects { get; set; } = 5;

    /// <summary>Pages one target has in flight at once, spread over the cluster's silos.</summary>
    public int MaxPagesInFlightPerTarget { get; set; } = 16;

    /// <summary>Pages of one host one target has in flight at once (the site grain still sends one request at a time).</summary>
    public int MaxPagesInFlightPerHost { get; set; } = 2;

    /// <summary>
    /// How often a running target's reminder, and the match ledger's and alert outbox's while they owe alerts, wake the grain
    /// (re-activating it on a surviving silo after a crash).
    /// </summary>
    public TimeSpan KeepAlivePeriod { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Consecutive failures (network errors, timeouts, 5xx) after which a host is paused.</summary>
    public int PauseHostAfterFailures { get; set; } = 5;

    /// <summary>The first pause of a failing host; each further pause doubles, up to an hour.</summary>
    public TimeSpan HostPause { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long robots.txt answering 5xx (or not at all) keeps a host closed before it is asked again.</summary>
    public TimeSpan RobotsRetryAfterServerError { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>A site grain waits in line for its host's turn up to this long; a longer wait is handed back as "retry later".</summary>
    public TimeSpan MaxInlineWait { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Times one page is tried (failures, deferrals) before it counts as an error.</summary>
    public int MaxAttemptsPerPage { get; set; } = 8;

    /// <summary>Sitemap files (indexes included) read per site and round, and URLs taken from them.</summary>
    public int MaxSitemapsPerSite { get; set; } = 20;
    public int MaxSitemapUrlsPerSite { get; set; } = 10_000;
}
