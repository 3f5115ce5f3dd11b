namespace LeakHunter.Crawler.Urls;

/// <summary>
/// One spelling per URL, so the frontier and the seen sets never hold the same page twice:
/// lower-case scheme and host, no default port, no fragment, dot segments resolved, tracking
/// parameters removed (the other parameters keep their order: it can matter to the server).
/// </summary>
public static class UrlNormalizer
{
    public const int MaxLength = 4096;

    private static readonly HashSet<string> TrackingParameters = new(StringComparer.OrdinalIgnoreCase)
    {
        "fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "mc_cid", "mc_eid", "igshid", "_ga", "_gl", "ref_src",
    };

    /// <summary>The normalised absolute http(s) URL, or null when the text is not one.</summary>
    public static Uri? Normalize(string raw, Uri? baseUri = null)
    {
        if (string.IsNullOrWhiteSpace(raw) || raw.Length > MaxLength) return null;
        raw = raw.Trim();
        Uri? url;
        if (baseUri is null) Uri.TryCreate(raw, UriKind.Absolute, out url);
        else Uri.TryCreate(baseUri, raw, out url);
        if (url is null || !url.IsAbsoluteUri || url.Scheme is not ("http" or "https") || string.IsNullOrEmpty(url.Host)) return null;
        if (!string.IsNullOrEmpty(url.UserInfo)) return null; // credentials in URLs are a phishing and leak vector

        var builder = new UriBuilder(url)
        {
            Scheme = url.Scheme.ToLowerInvariant(),
            Host = url.Host.ToLowerInvariant(),
            Fragment = string.Empty,
            Query = CleanQuery(url.Query),
        };
        if (url.IsDefaultPort) builder.Port = -1;
        if (string.IsNullOrEmpty(builder.Path)) builder.Path = "/";
        return builder.Uri;
    }

    private static string CleanQuery(string query)
    {
        if (string.IsNullOrEmpty(query) || query == "?") return string.Empty;
        var kept = query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries)
            .Where(pair =>
            {
                var name = Uri.UnescapeDataString(pair.Split('=', 2)[0]);
                return !name.StartsWith("utm_", StringComparison.OrdinalIgnoreCase) && !TrackingParameters.Contains(name);
            });
        return string.Join('&', kept);
    }
}
