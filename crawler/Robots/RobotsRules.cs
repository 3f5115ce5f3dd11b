using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace LeakHunter.Crawler.Robots;

/// <summary>
/// The rules of one robots.txt for one crawler (RFC 9309): the groups naming our product token
/// (or, failing that, the <c>*</c> groups), their Allow/Disallow rules with <c>*</c> and <c>$</c>,
/// the longest match deciding and Allow winning ties, plus Crawl-delay and Sitemap lines.
/// </summary>
public sealed class RobotsRules
{
    /// <summary>Robots files larger than this are cut (RFC 9309 asks crawlers to parse at least 500 KiB).</summary>
    public const int MaxBytes = 512 * 1024;

    private readonly IReadOnlyList<Rule> rules;

    private RobotsRules(IReadOnlyList<Rule> rules, TimeSpan? crawlDelay, IReadOnlyList<Uri> sitemaps)
    {
        this.rules = rules;
        CrawlDelay = crawlDelay;
        Sitemaps = sitemaps;
    }

    /// <summary>No robots.txt (4xx): everything is allowed.</summary>
    public static RobotsRules AllowAll { get; } = new([], null, []);

    /// <summary>robots.txt unreachable (5xx, network): nothing may be crawled for now.</summary>
    public static RobotsRules DisallowAll { get; } = new([new Rule("/", Allow: false)], null, []);

    public TimeSpan? CrawlDelay { get; }
    public IReadOnlyList<Uri> Sitemaps { get; }

    public static RobotsRules Parse(string content, string userAgentToken)
    {
        if (content.Length > MaxBytes) content = content[..MaxBytes];
        var groups = new List<Group>();
        var sitemaps = new List<Uri>();
        Group? current = null;
        var lastWasAgent = false;
        foreach (var rawLine in content.Split('\n'))
        {
            var line = rawLine;
            var hash = line.IndexOf('#');
            if (hash >= 0) line = line[..hash];
            var colon = line.IndexOf(':');
            if (colon < 0) continue;
            var key = line[..colon].Trim().ToLowerInvariant();
            var value = line[(colon + 1)..].Trim();
            switch (key)
            {
                case "user-agent":
                    if (current is null || !lastWasAgent)
                    {
                        current = new Group();
                        groups.Add(current);
                    }
                    current.Agents.Add(value);
                    lastWasAgent = true;
                    continue;
                case "allow" or "disallow" when current is not null:
                    // An empty Disallow allows everything: it adds no rule.
                    if (value.Length > 0) current.Rules.Add(new Rule(value, key == "allow"));
                    break;
                case "crawl-delay" when current is not null:
                    if (double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) && seconds >= 0)
                        current.CrawlDelay = TimeSpan.FromSeconds(Math.Min(seconds, 3600));
                    break;
                case "sitemap":
                    if (Uri.TryCreate(value, UriKind.Absolute, out var sitemap) && sitemap.Scheme is "http" or "https")
                        sitemaps.Add(sitemap);
                    break;
            }
            lastWasAgent = false;
        }

        var ours = groups.Where(g => g.Agents.Any(a => a.Equals(userAgentToken, StringComparison.OrdinalIgnoreCase))).ToList();
        if (ours.Count == 0) ours = groups.Where(g => g.Agents.Contains("*")).ToList();
        var delay = ours.Select(g => g.CrawlDelay).FirstOrDefault(d => d is not null);
        return new RobotsRules(ours.SelectMany(g => g.Rules).ToList(), delay, sitemaps);
    }

    /// <summary>Whether the URL's path and query may be fetched. /robots.txt itself always may.</summary>
    public bool IsAllowed(Uri url)
    {
        var target = NormaliseEscapes(url.PathAndQuery);
        if (target == "/robots.txt") return true;
        Rule? best = null;
        foreach (var rule in rules)
        {
            if (!rule.Matches(target)) continue;
            if (best is null || rule.Specificity > best.Specificity || rule.Specificity == best.Specificity && rule.Allow)
                best = rule;
        }
        return best?.Allow ?? true;
    }

    /// <summary>Upper-cases percent escapes and escapes non-ASCII, so "%2f", "%2F" and raw UTF-8 compare equal.</summary>
    internal static string NormaliseEscapes(string path)
    {
        var builder = new StringBuilder(path.Length);
        for (var i = 0; i < path.Length; i++)
        {
            var c = path[i];
            if (c == '%' && i + 2 < path.Length && Uri.IsHexDigit(path[i + 1]) && Uri.IsHexDigit(path[i + 2]))
            {
                builder.Append('%').Append(char.ToUpperInvariant(path[i + 1])).Append(char.ToUpperInvariant(path[i + 2]));
                i += 2;
            }
            else if (c > 127)
            {
                foreach (var b in Encoding.UTF8.GetBytes(c.ToString())) builder.Append('%').Append(b.ToString("X2"));
            }
            else builder.Append(c);
        }
        return builder.ToString();
    }

    private sealed class Group
    {
        public List<string> Agents { get; } = [];
        public List<Rule> Rules { get; } = [];
        public TimeSpan? CrawlDelay { get; set; }
    }

    private sealed class Rule
    {
        private readonly Regex? pattern;
        private readonly string prefix;

        public Rule(string path, bool Allow)
        {
            this.Allow = Allow;
            prefix = NormaliseEscapes(path);
            Specificity = prefix.Length;
            if (prefix.Contains('*') || prefix.EndsWith('$'))
            {
                var anchored = prefix.EndsWith('$');
                var body = anchored ? prefix[..^1] : prefix;
                var regex = "^" + string.Join(".*", body.Split('*').Select(Regex.Escape)) + (anchored ? "$" : "");
                pattern = new Regex(regex, RegexOptions.CultureInvariant | RegexOptions.Singleline, TimeSpan.FromMilliseconds(50));
            }
        }

        public bool Allow { get; }
        public int Specificity { get; }

        public bool Matches(string target)
        {
            if (pattern is null) return target.StartsWith(prefix, StringComparison.Ordinal);
            try
            {
                return pattern.IsMatch(target);
            }
            catch (RegexMatchTimeoutException)
            {
                return !Allow; // A pathological pattern counts as the cautious answer.
            }
        }
    }
}
