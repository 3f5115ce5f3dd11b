namespace LeakHunter.Crawler.Urls;

/// <summary>How far a crawl may wander from its start URL.</summary>
public enum CrawlScopeKind
{
    /// <summary>Only the start URL's host.</summary>
    Host,
    /// <summary>The start URL's registrable domain, subdomains included.</summary>
    Domain,
    /// <summary>Only the listed URLs (and the start URL); links are not followed.</summary>
    Urls,
}

public static class CrawlScope
{
    /// <summary>Second-level labels under which registrations happen one level deeper (co.uk, com.au, …).</summary>
    private static readonly HashSet<string> SecondLevelSuffixes = new(StringComparer.OrdinalIgnoreCase)
    {
        "co", "com", "net", "org", "gov", "edu", "ac", "or", "ne", "go", "gob", "nic", "ltd", "plc", "me", "mil", "nom", "sch",
    };

    public static bool IsInScope(Uri candidate, Uri root, CrawlScopeKind kind, IReadOnlyCollection<Uri>? listedUrls) => kind switch
    {
        CrawlScopeKind.Host => SameHost(candidate, root),
        CrawlScopeKind.Domain => RegistrableDomain(candidate.Host) == RegistrableDomain(root.Host),
        CrawlScopeKind.Urls => candidate == root || (listedUrls?.Contains(candidate) ?? false),
        _ => false,
    };

    private static bool SameHost(Uri a, Uri b) =>
        string.Equals(a.Host, b.Host, StringComparison.OrdinalIgnoreCase) && a.Port == b.Port;

    /// <summary>The registrable domain (example.co.uk for a.b.example.co.uk); an IP address is its own.</summary>
    public static string RegistrableDomain(string host)
    {
        host = host.ToLowerInvariant().TrimEnd('.');
        if (System.Net.IPAddress.TryParse(host.Trim('[', ']'), out _)) return host;
        var labels = host.Split('.');
        if (labels.Length <= 2) return host;
        var take = labels[^1].Length == 2 && SecondLevelSuffixes.Contains(labels[^2]) ? 3 : 2;
        return string.Join('.', labels[^Math.Min(take, labels.Length)..]);
    }
}
