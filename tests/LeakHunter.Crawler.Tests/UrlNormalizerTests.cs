using LeakHunter.Crawler.Urls;

namespace LeakHunter.Crawler.Tests;

public sealed class UrlNormalizerTests
{
    [Theory]
    [InlineData("HTTP://Example.COM:80/a/./b/../c#frag", "http://example.com/a/c")]
    [InlineData("https://example.com:443", "https://example.com/")]
    [InlineData("https://example.com:8443/x", "https://example.com:8443/x")]
    [InlineData("https://example.com/p?utm_source=x&id=7&fbclid=abc&utm_medium=y", "https://example.com/p?id=7")]
    [InlineData("https://example.com/p?b=2&a=1", "https://example.com/p?b=2&a=1")]
    [InlineData("  https://example.com/x  ", "https://example.com/x")]
    public void Normalises_absolute_urls(string raw, string expected) =>
        Assert.Equal(expected, UrlNormalizer.Normalize(raw)!.AbsoluteUri);

    [Theory]
    [InlineData("../img/a.jpg", "https://example.com/forum/img/a.jpg")]
    [InlineData("/root.png", "https://example.com/root.png")]
    [InlineData("//cdn.example.net/x.jpg", "https://cdn.example.net/x.jpg")]
    [InlineData("?page=2", "https://example.com/forum/thread/1?page=2")]
    public void Resolves_relative_urls_against_the_page(string raw, string expected) =>
        Assert.Equal(expected, UrlNormalizer.Normalize(raw, new Uri("https://example.com/forum/thread/1"))!.AbsoluteUri);

    [Theory]
    [InlineData("javascript:alert(1)")]
    [InlineData("mailto:a@example.com")]
    [InlineData("ftp://example.com/")]
    [InlineData("data:image/png;base64,AAAA")]
    [InlineData("https://user:pass@example.com/")]
    [InlineData("")]
    [InlineData("not a url")]
    public void Refuses_what_is_not_a_plain_web_url(string raw) => Assert.Null(UrlNormalizer.Normalize(raw));

    [Theory]
    [InlineData("https://example.com/a", "https://example.com/", CrawlScopeKind.Host, true)]
    [InlineData("https://cdn.example.com/a", "https://example.com/", CrawlScopeKind.Host, false)]
    [InlineData("https://cdn.example.com/a", "https://www.example.com/", CrawlScopeKind.Domain, true)]
    [InlineData("https://a.example.co.uk/", "https://b.example.co.uk/", CrawlScopeKind.Domain, true)]
    [InlineData("https://other.co.uk/", "https://b.example.co.uk/", CrawlScopeKind.Domain, false)]
    [InlineData("https://example.com/other", "https://example.com/", CrawlScopeKind.Urls, false)]
    public void Scope(string candidate, string root, CrawlScopeKind kind, bool inScope) =>
        Assert.Equal(inScope, CrawlScope.IsInScope(new Uri(candidate), new Uri(root), kind, []));

    [Theory]
    [InlineData("https://example.com/a/b/a/b/a/b/", true)]
    [InlineData("https://example.com/calendar/2024/05/17", true)]
    [InlineData("https://example.com/events?month=2031-04", true)]
    [InlineData("https://example.com/blog/2024/05/post", false)]
    [InlineData("https://example.com/forum/thread/12?page=3", false)]
    public void Recognises_traps(string url, bool trap) => Assert.Equal(trap, TrapGuard.LooksLikeTrap(new Uri(url)));
}
