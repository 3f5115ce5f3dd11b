using System.IO.Compression;
using System.Text;
using LeakHunter.Crawler.Extraction;
using LeakHunter.Crawler.Robots;

namespace LeakHunter.Crawler.Tests;

/// <summary>RFC 9309's own examples, sitemap indexes, and thumbnails that lead to attachment pages.</summary>
public sealed class CrawlExtrasTests
{
    /// <summary>The example robots.txt of RFC 9309 §5.1.</summary>
    private const string RfcExample = """
        User-Agent: *
        Disallow: *.gif$
        Disallow: /example/
        Allow: /publications/

        User-Agent: foobot
        Disallow:/
        Allow:/example/page.html
        Allow:/example/allowed.gif

        User-Agent: barbot
        User-Agent: bazbot
        Disallow: /example/page.html

        User-Agent: quxbot

        EOF
        """;

    [Theory]
    [InlineData("foobot", "/example/page.html", true)]
    [InlineData("foobot", "/example/allowed.gif", true)]
    [InlineData("foobot", "/example/other.html", false)]
    [InlineData("foobot", "/", false)]
    [InlineData("barbot", "/example/page.html", false)]
    [InlineData("bazbot", "/example/page.html", false)]
    [InlineData("bazbot", "/example/other.html", true)]
    [InlineData("quxbot", "/example/page.html", true)]
    [InlineData("quxbot", "/anything.gif", true)]
    [InlineData("otherbot", "/images/a.gif", false)]
    [InlineData("otherbot", "/example/page.html", false)]
    [InlineData("otherbot", "/publications/", true)]
    [InlineData("otherbot", "/publications/a.gif", true)] // Allow: /publications/ is longer than *.gif$
    public void The_example_of_RFC_9309_section_5_1(string agent, string path, bool allowed) =>
        Assert.Equal(allowed, RobotsRules.Parse(RfcExample, agent).IsAllowed(new Uri("https://www.example.com" + path)));

    /// <summary>RFC 9309 §2.2.2 and §2.2.3: the longest match wins, Allow wins a tie, special characters.</summary>
    [Theory]
    [InlineData("Allow: /example/page/\nDisallow: /example/page/disallowed.gif", "/example/page/disallowed.gif", false)]
    [InlineData("Allow: /example/page/\nDisallow: /example/page/disallowed.gif", "/example/page/ok.gif", true)]
    [InlineData("Allow: /foo\nDisallow: /foo", "/foo", true)]
    [InlineData("Disallow: /path/file-with-a-*.html", "/path/file-with-a-star.html", false)]
    [InlineData("Disallow: /path/foo-$", "/path/foo-", false)]
    [InlineData("Disallow: /path/foo-$", "/path/foo-bar", true)]
    [InlineData("Disallow: /foo/bar?baz=quz", "/foo/bar?baz=quz", false)]
    [InlineData("Disallow: /foo/bar/%E3%83%84", "/foo/bar/ツ", false)]
    [InlineData("Disallow: /foo/bar/ツ", "/foo/bar/%E3%83%84", false)]
    public void Matching_rules_of_RFC_9309(string rules, string path, bool allowed) =>
        Assert.Equal(allowed, RobotsRules.Parse("User-agent: *\n" + rules, "LeakHunterBot").IsAllowed(new Uri("https://www.example.com" + path)));

    [Fact]
    public void A_gzipped_sitemap_index_is_told_from_a_list_of_pages()
    {
        var index = Gzip("<?xml version='1.0'?><sitemapindex xmlns='http://www.sitemaps.org/schemas/sitemap/0.9'>"
            + "<sitemap><loc>https://a.example/s1.xml</loc></sitemap><sitemap><loc>https://a.example/s2.xml.gz</loc></sitemap></sitemapindex>");
        var read = SitemapParser.Read(index);
        Assert.True(read.IsIndex);
        Assert.Equal(["https://a.example/s1.xml", "https://a.example/s2.xml.gz"], read.Urls.Select(u => u.AbsoluteUri));

        var pages = SitemapParser.Read(Encoding.UTF8.GetBytes("<urlset xmlns='http://www.sitemaps.org/schemas/sitemap/0.9'><url><loc>https://a.example/p</loc></url></urlset>"));
        Assert.False(pages.IsIndex);
        Assert.Equal("https://a.example/p", Assert.Single(pages.Urls).AbsoluteUri);
    }

    [Fact]
    public void A_thumbnail_linking_to_a_page_marks_an_attachment_page()
    {
        var page = PageExtractor.Extract("""
            <a href="/attachment.php?id=7"><img src="/thumbs/7.jpg"></a>
            <a href="/full/8.jpg"><img src="/thumbs/8.jpg"></a>
            <a href="/thread/2">next thread</a>
            """, new Uri("https://forum.example/thread/1"));
        Assert.Equal("https://forum.example/attachment.php?id=7", Assert.Single(page.AttachmentPages).AbsoluteUri);
        Assert.Contains(page.ImageUrls, u => u.AbsolutePath == "/full/8.jpg");
        Assert.Contains(page.Links, u => u.AbsolutePath == "/thread/2");
    }

    private static byte[] Gzip(string text)
    {
        var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.Optimal, leaveOpen: true)) gzip.Write(Encoding.UTF8.GetBytes(text));
        return buffer.ToArray();
    }
}
