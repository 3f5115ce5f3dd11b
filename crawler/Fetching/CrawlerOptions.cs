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
}
