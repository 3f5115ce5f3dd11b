using System.Text.RegularExpressions;
using AngleSharp.Dom;
using AngleSharp.Html.Parser;
using LeakHunter.Crawler.Urls;

namespace LeakHunter.Crawler.Extraction;

/// <summary>What a page offers the crawler: pictures to check, links to follow, the next page of a listing.</summary>
public sealed record ExtractedPage(IReadOnlyList<Uri> ImageUrls, IReadOnlyList<Uri> Links, Uri? NextPage, string? Title)
{
    /// <summary>
    /// Pages a thumbnail links to (an &lt;a&gt; wrapping an &lt;img&gt;, not itself an image file): forums
    /// and galleries show the full-size picture there. Also among <see cref="Links"/>.
    /// </summary>
    public IReadOnlyList<Uri> AttachmentPages { get; init; } = [];
}

/// <summary>
/// Finds every picture a page shows or points at — img src and srcset, picture sources, lazy-load
/// attributes, links to image files, og:image, CSS url(...) in style attributes and style
/// elements, noscript fallbacks — and every link, resolved against the page (or its base href)
/// and normalised. Hostile pages are bounded: the HTML is cut at a size cap and at most a fixed
/// number of elements is looked at.
/// </summary>
public static partial class PageExtractor
{
    public const int MaxHtmlChars = 4 * 1024 * 1024;
    public const int MaxElements = 100_000;
    public const int MaxUrlsPerKind = 5_000;

    private static readonly string[] ImageExtensions = [".jpg", ".jpeg", ".png", ".gif", ".webp", ".bmp", ".tif", ".tiff", ".avif"];
    private static readonly string[] LazySourceAttributes = ["data-src", "data-original", "data-lazy-src", "data-lazy", "data-full", "data-large-file"];

    [GeneratedRegex(@"url\(\s*(['""]?)(?<url>[^'""\)\s]+)\1\s*\)", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, 200)]
    private static partial Regex CssUrl();

    public static ExtractedPage Extract(string html, Uri pageUrl)
    {
        if (html.Length > MaxHtmlChars) html = html[..MaxHtmlChars];
        var parser = new HtmlParser(new HtmlParserOptions { IsScripting = false });
        using var document = parser.ParseDocument(html);

        var baseUrl = pageUrl;
        if (document.QuerySelector("base[href]")?.GetAttribute("href") is { } baseHref
            && UrlNormalizer.Normalize(baseHref, pageUrl) is { } resolvedBase)
            baseUrl = resolvedBase;

        var images = new UrlSet(baseUrl);
        var links = new UrlSet(baseUrl);
        var attachments = new UrlSet(baseUrl);
        Uri? next = null;

        foreach (var meta in document.QuerySelectorAll("meta[property='og:image'], meta[property='og:image:url'], meta[name='twitter:image']"))
            images.Add(meta.GetAttribute("content"));

        var seen = 0;
        foreach (var element in document.All)
        {
            if (++seen > MaxElements) break;
            switch (element.LocalName)
            {
                case "img":
                    AddSrcset(images, element.GetAttribute("srcset"));
                    AddSrcset(images, element.GetAttribute("data-srcset"));
                    foreach (var attribute in LazySourceAttributes) images.Add(element.GetAttribute(attribute));
                    images.Add(element.GetAttribute("src"));
                    break;
                case "source" when element.ParentElement?.LocalName == "picture":
                    AddSrcset(images, element.GetAttribute("srcset"));
                    AddSrcset(images, element.GetAttribute("data-srcset"));
                    break;
                case "a":
                    var href = element.GetAttribute("href");
                    if (IsRel(element, "next") && UrlNormalizer.Normalize(href ?? "", baseUrl) is { } nextUrl) next ??= nextUrl;
                    if (LooksLikeImage(href)) images.Add(href);
                    else
                    {
                        links.Add(href);
                        if (element.QuerySelector("img") is not null) attachments.Add(href);
                    }
                    foreach (var attribute in LazySourceAttributes) images.Add(element.GetAttribute(attribute));
                    break;
                case "link" when IsRel(element, "next"):
                    next ??= UrlNormalizer.Normalize(element.GetAttribute("href") ?? "", baseUrl);
                    break;
                case "style":
                    AddCssUrls(images, element.TextContent);
                    break;
                case "noscript":
                    // With scripting off AngleSharp parses noscript content as markup; when it kept
                    // it as text, parse that text for the images a script would have lazy-loaded.
                    if (element.Children.Length == 0 && element.TextContent.Contains("<img", StringComparison.OrdinalIgnoreCase))
                        foreach (var inner in Extract(element.TextContent, baseUrl).ImageUrls) images.Add(inner.AbsoluteUri);
                    break;
            }
            if (element.GetAttribute("style") is { } style) AddCssUrls(images, style);
        }

        var title = document.Title?.Trim();
        return new ExtractedPage(images.Items, links.Items, next, string.IsNullOrEmpty(title) ? null : title) { AttachmentPages = attachments.Items };
    }

    private static bool IsRel(IElement element, string rel) =>
        element.GetAttribute("rel")?.Split(' ', StringSplitOptions.RemoveEmptyEntries)
            .Any(r => r.Equals(rel, StringComparison.OrdinalIgnoreCase)) ?? false;

    private static bool LooksLikeImage(string? href)
    {
        if (string.IsNullOrEmpty(href)) return false;
        var path = href.Split('?', '#')[0];
        return ImageExtensions.Any(e => path.EndsWith(e, StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>srcset candidates, the largest (by width or density descriptor) first.</summary>
    private static void AddSrcset(UrlSet images, string? srcset)
    {
        if (string.IsNullOrWhiteSpace(srcset)) return;
        var candidates = new List<(string Url, double Size)>();
        foreach (var candidate in SplitSrcset(srcset))
        {
            var parts = candidate.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length == 0) continue;
            var size = 1.0;
            if (parts.Length > 1 && parts[1].Length > 1
                && double.TryParse(parts[1][..^1], System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var value))
                size = parts[1][^1] is 'w' or 'W' ? value : value * 1000; // density: rank above typical widths
            candidates.Add((parts[0], size));
        }
        foreach (var (url, _) in candidates.OrderByDescending(c => c.Size)) images.Add(url);
    }

    /// <summary>Splits on commas that end a candidate (a comma inside a URL, e.g. a data: URL, is not followed by a space).</summary>
    private static IEnumerable<string> SplitSrcset(string srcset) =>
        Regex.Split(srcset.Trim(), @",\s+|,(?=\s*$)", RegexOptions.None, TimeSpan.FromMilliseconds(200))
            .Select(s => s.Trim().TrimEnd(','))
            .Where(s => s.Length > 0);

    private static void AddCssUrls(UrlSet images, string css)
    {
        if (css.Length > MaxHtmlChars) return;
        try
        {
            foreach (Match match in CssUrl().Matches(css)) images.Add(match.Groups["url"].Value);
        }
        catch (RegexMatchTimeoutException)
        {
            // Pathological CSS: keep what the other sources gave.
        }
    }

    /// <summary>Normalised, deduplicated URLs in first-seen order, bounded in number.</summary>
    private sealed class UrlSet(Uri baseUrl)
    {
        private readonly HashSet<string> seen = new(StringComparer.Ordinal);
        public List<Uri> Items { get; } = [];

        public void Add(string? raw)
        {
            if (string.IsNullOrWhiteSpace(raw) || Items.Count >= MaxUrlsPerKind) return;
            if (raw.StartsWith("javascript:", StringComparison.OrdinalIgnoreCase) || raw.StartsWith("data:", StringComparison.OrdinalIgnoreCase)) return;
            if (UrlNormalizer.Normalize(raw, baseUrl) is { } url && seen.Add(url.AbsoluteUri)) Items.Add(url);
        }
    }
}
