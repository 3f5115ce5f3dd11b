using LeakHunter.Crawler.Extraction;

namespace LeakHunter.Crawler.Tests;

public sealed class PageExtractorTests
{
    private static readonly Uri Page = new("https://forum.example/thread/7");

    private static List<string> Images(string html) => PageExtractor.Extract(html, Page).ImageUrls.Select(u => u.AbsoluteUri).ToList();

    [Fact]
    public void Finds_images_in_every_place_a_page_puts_them()
    {
        const string html = """
            <html><head>
              <meta property="og:image" content="/og.jpg">
              <style>.hero { background: url('/css/hero.png') }</style>
            </head><body>
              <img src="plain.jpg">
              <img src="small.jpg" srcset="w400.jpg 400w, w1600.jpg 1600w, w800.jpg 800w">
              <picture><source srcset="pic.webp 1x, pic@2x.webp 2x"><img src="pic.jpg"></picture>
              <img data-src="/lazy.jpg" data-original="/orig.jpg" data-lazy-src="/lazy2.jpg">
              <a href="/attachments/full.jpeg">full size</a>
              <div style="background-image:url(&quot;/inline.gif&quot;)"></div>
              <noscript><img src="/noscript.png"></noscript>
            </body></html>
            """;
        var images = Images(html);
        string[] expected =
        [
            "https://forum.example/og.jpg", "https://forum.example/css/hero.png", "https://forum.example/thread/plain.jpg",
            "https://forum.example/thread/w1600.jpg", "https://forum.example/thread/w800.jpg", "https://forum.example/thread/w400.jpg",
            "https://forum.example/thread/small.jpg", "https://forum.example/thread/pic@2x.webp", "https://forum.example/thread/pic.webp",
            "https://forum.example/thread/pic.jpg", "https://forum.example/lazy.jpg", "https://forum.example/orig.jpg",
            "https://forum.example/lazy2.jpg", "https://forum.example/attachments/full.jpeg", "https://forum.example/inline.gif",
            "https://forum.example/noscript.png",
        ];
        foreach (var url in expected) Assert.Contains(url, images);
        Assert.True(images.IndexOf("https://forum.example/thread/w1600.jpg") < images.IndexOf("https://forum.example/thread/w400.jpg"),
            "srcset candidates come largest first");
        Assert.Equal(images.Count, images.Distinct().Count());
    }

    [Fact]
    public void Links_base_href_and_next_page()
    {
        const string html = """
            <head><base href="https://forum.example/board/"><link rel="next" href="?page=2"></head>
            <a href="t/1">one</a> <a href="javascript:void(0)">js</a> <a href="mailto:x@y.z">mail</a>
            <a href="t/1#reply">one again</a> <a href="pic.png">picture</a>
            """;
        var page = PageExtractor.Extract(html, Page);
        Assert.Equal(["https://forum.example/board/t/1"], page.Links.Select(u => u.AbsoluteUri));
        Assert.Equal("https://forum.example/board/?page=2", page.NextPage?.AbsoluteUri);
        Assert.Equal(["https://forum.example/board/pic.png"], page.ImageUrls.Select(u => u.AbsoluteUri));
    }

    [Fact]
    public void Hostile_pages_are_bounded_and_do_not_throw()
    {
        var deep = string.Concat(Enumerable.Repeat("<div>", 50_000)) + "<img src='deep.jpg'>";
        var page = PageExtractor.Extract(deep, Page);
        Assert.NotNull(page);
        var many = string.Concat(Enumerable.Range(0, 20_000).Select(i => $"<img src='/i{i}.jpg'>"));
        Assert.Equal(PageExtractor.MaxUrlsPerKind, PageExtractor.Extract(many, Page).ImageUrls.Count);
        Assert.Empty(PageExtractor.Extract("\0\u0001<<<>>>&&&;;<img src=>", Page).ImageUrls);
    }
}
