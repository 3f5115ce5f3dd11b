using System.IO.Compression;
using System.Net;
using LeakHunter.Crawler.Fetching;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace LeakHunter.Crawler.Tests;

/// <summary>The fetcher against a real Kestrel site on loopback.</summary>
public sealed class WebFetcherTests : IAsyncLifetime
{
    private static readonly byte[] Png = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 1, 2, 3, 4];
    private WebApplication site = null!;
    private Uri baseUrl = null!;

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        site = builder.Build();
        site.MapGet("/page", () => Results.Content("<html><body>hi</body></html>", "text/html"));
        site.MapGet("/hop/{n:int}", (int n) => n == 0 ? Results.Content("<html>end</html>", "text/html") : Results.Redirect($"/hop/{n - 1}"));
        site.MapGet("/away", () => Results.Redirect("https://elsewhere.example/"));
        site.MapGet("/big", () => Results.Bytes(new byte[200_000], "image/jpeg"));
        site.MapGet("/slow", async (HttpResponse response, CancellationToken cancel) =>
        {
            response.ContentType = "text/html";
            await response.WriteAsync("<html>", cancel);
            await response.Body.FlushAsync(cancel);
            await Task.Delay(TimeSpan.FromSeconds(30), cancel);
        });
        site.MapGet("/bomb", (HttpResponse response) =>
        {
            response.Headers.ContentEncoding = "gzip";
            var zeros = new MemoryStream();
            using (var gzip = new GZipStream(zeros, CompressionLevel.Optimal, leaveOpen: true)) gzip.Write(new byte[10_000_000]);
            return Results.Bytes(zeros.ToArray(), "text/html");
        });
        site.MapGet("/busy", (HttpResponse response) =>
        {
            response.Headers.RetryAfter = "7";
            return Results.StatusCode(429);
        });
        site.MapGet("/etag", (HttpRequest request) => request.Headers.IfNoneMatch == "\"v1\""
            ? Results.StatusCode(304)
            : Results.Text("<html>v1</html>", "text/html"));
        site.MapGet("/disguised", () => Results.Bytes(Png, "text/html"));
        site.MapGet("/fake-image", () => Results.Text("<script>evil()</script>", "image/png"));
        await site.StartAsync();
        baseUrl = new Uri(site.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
    }

    public async Task DisposeAsync() => await site.DisposeAsync();

    /// <summary>
    /// A fetcher for the loopback site. The timeout is generous (a loaded CI machine can take seconds over a
    /// first request); only the slow-server test shortens it, against an endpoint that waits 30 s.
    /// </summary>
    private WebFetcher Fetcher(bool allowPrivate = true, double timeoutSeconds = 15) => new(new CrawlerOptions
    {
        AllowPrivateAddresses = allowPrivate,
        RequestTimeout = TimeSpan.FromSeconds(timeoutSeconds),
        MaxRedirects = 5,
    });

    private async Task<FetchResult> FetchAsync(string path, long maxBytes = 100_000, Func<Uri, bool>? allow = null, string? etag = null,
        bool allowPrivate = true, double timeoutSeconds = 15)
    {
        using var fetcher = Fetcher(allowPrivate, timeoutSeconds);
        return await fetcher.FetchAsync(new Uri(baseUrl, path), maxBytes, allow, etag, null, CancellationToken.None);
    }

    [Fact]
    public async Task Fetches_a_page()
    {
        var result = await FetchAsync("/page");
        Assert.Equal(FetchStatus.Ok, result.Status);
        Assert.Equal("text/html", result.MediaType);
    }

    [Fact]
    public async Task Loopback_is_refused_unless_private_addresses_are_allowed()
    {
        var result = await FetchAsync("/page", allowPrivate: false);
        Assert.Equal(FetchStatus.Refused, result.Status);
    }

    [Theory]
    [InlineData("127.0.0.1", true)]
    [InlineData("10.1.2.3", true)]
    [InlineData("172.20.0.1", true)]
    [InlineData("192.168.1.1", true)]
    [InlineData("169.254.169.254", true)]
    [InlineData("100.64.0.1", true)]
    [InlineData("0.0.0.0", true)]
    [InlineData("::1", true)]
    [InlineData("fe80::1", true)]
    [InlineData("fd00:ec2::254", true)]
    [InlineData("::ffff:127.0.0.1", true)]
    [InlineData("93.184.216.34", false)]
    [InlineData("2606:2800:220:1:248:1893:25c8:1946", false)]
    public void The_guard_knows_the_forbidden_ranges(string address, bool forbidden) =>
        Assert.Equal(forbidden, SsrfGuard.IsForbidden(IPAddress.Parse(address)));

    [Fact]
    public async Task Follows_at_most_five_redirects()
    {
        Assert.Equal(FetchStatus.Ok, (await FetchAsync("/hop/5")).Status);
        Assert.Equal(FetchStatus.TooManyRedirects, (await FetchAsync("/hop/6")).Status);
    }

    [Fact]
    public async Task Every_redirect_is_checked_by_the_caller()
    {
        var result = await FetchAsync("/away", allow: u => u.Host == baseUrl.Host);
        Assert.Equal(FetchStatus.OutOfScope, result.Status);
    }

    [Fact]
    public async Task Bodies_over_the_cap_are_refused_also_after_decompression()
    {
        Assert.Equal(FetchStatus.TooLarge, (await FetchAsync("/big", maxBytes: 100_000)).Status);
        Assert.Equal(FetchStatus.TooLarge, (await FetchAsync("/bomb", maxBytes: 1_000_000)).Status);
    }

    [Fact]
    public async Task A_slow_server_times_out()
    {
        var result = await FetchAsync("/slow", timeoutSeconds: 2);
        Assert.Equal(FetchStatus.Timeout, result.Status);
    }

    [Fact]
    public async Task Retry_after_is_reported()
    {
        var result = await FetchAsync("/busy");
        Assert.Equal(429, result.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(7), result.RetryAfter);
    }

    [Fact]
    public async Task Conditional_requests_get_not_modified()
    {
        Assert.Equal(FetchStatus.NotModified, (await FetchAsync("/etag", etag: "\"v1\"")).Status);
        Assert.Equal(FetchStatus.Ok, (await FetchAsync("/etag")).Status);
    }

    [Fact]
    public async Task The_media_type_comes_from_the_bytes_not_the_header()
    {
        Assert.Equal("image/png", (await FetchAsync("/disguised")).MediaType);
        Assert.NotEqual("image/png", (await FetchAsync("/fake-image")).MediaType);
    }

    [Fact]
    public async Task A_redirect_to_another_site_is_handed_back_and_a_chain_is_capped_as_a_whole()
    {
        using var fetcher = Fetcher();
        var handed = await fetcher.FetchAsync(new Uri(baseUrl, "/away"), 100_000, _ => RedirectDecision.HandOff, null, null, 0, CancellationToken.None);
        Assert.Equal(FetchStatus.Redirect, handed.Status);
        Assert.Equal("elsewhere.example", handed.FinalUrl.Host);
        Assert.Equal(1, handed.Redirects);
        // Four hops taken elsewhere leave room for one here: /hop/1 needs one, /hop/2 two.
        Assert.Equal(FetchStatus.Ok, (await fetcher.FetchAsync(new Uri(baseUrl, "/hop/1"), 100_000, null, null, null, 4, CancellationToken.None)).Status);
        Assert.Equal(FetchStatus.TooManyRedirects, (await fetcher.FetchAsync(new Uri(baseUrl, "/hop/2"), 100_000, null, null, null, 4, CancellationToken.None)).Status);
    }
}
