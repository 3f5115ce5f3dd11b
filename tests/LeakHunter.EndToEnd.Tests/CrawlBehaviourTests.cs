using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using LeakHunter.Crawler.Grains;
using LeakHunter.Crawler.Urls;
using LeakHunter.Index.Originals;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace LeakHunter.EndToEnd.Tests;

/// <summary>
/// How one node's crawler treats a site: Retry-After, a host that keeps failing, robots.txt that
/// answers 5xx, revisits with conditional requests, and a restart in the middle of a crawl.
/// </summary>
[Collection(NodeCollection.Name)]
public sealed class CrawlBehaviourTests(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly string dataDirectory = Directory.CreateTempSubdirectory("leakhunter-behaviour-").FullName;
    private readonly ConcurrentQueue<(long Ticks, string Path, string? Validator)> requests = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync()
    {
        Directory.Delete(dataDirectory, recursive: true);
        return Task.CompletedTask;
    }

    private Task<LoopbackSite> SiteAsync(Action<WebApplication> map) => LoopbackSite.StartAsync(app =>
    {
        app.Use(async (context, next) =>
        {
            var validator = context.Request.Headers.IfNoneMatch.ToString() is { Length: > 0 } etag ? etag
                : context.Request.Headers.IfModifiedSince.ToString() is { Length: > 0 } since ? since : null;
            requests.Enqueue((Stopwatch.GetTimestamp(), context.Request.Path.Value!, validator));
            await next();
        });
        map(app);
    });

    private List<(long Ticks, string Path, string? Validator)> Requests(string path) => requests.Where(r => r.Path == path).ToList();

    private static IResult Html(string body) => Results.Content($"<!doctype html><html><body>{body}</body></html>", "text/html");

    private static async Task<JsonElement> CrawlAsync(TestNode node, Uri url, int maxPages = 50)
    {
        var created = await node.Http.PostAsJsonAsync("/api/targets", new { url, scope = "host", maxDepth = 3, maxPages });
        var id = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString();
        return await Polling.UntilAsync(() => node.Http.GetFromJsonAsync<JsonElement>($"/api/targets/{id}"),
            t => t.GetProperty("state").GetString() is "done" or "failed", TimeSpan.FromSeconds(60), "the crawl to finish");
    }

    [Fact]
    public async Task Retry_after_on_429_is_honoured_and_the_page_is_fetched_later()
    {
        var busy = 0;
        await using var site = await SiteAsync(app =>
        {
            app.MapGet("/", () => Html("<a href='/busy'>busy</a>"));
            app.MapGet("/busy", (HttpResponse response) =>
            {
                if (Interlocked.Increment(ref busy) > 1) return Html("<p>now</p>");
                response.Headers.RetryAfter = "2";
                return Results.StatusCode(429);
            });
        });
        // Inline waits are short here, so the 2 s Retry-After goes back to the target as "retry later".
        await using var node = await TestNode.StartAsync(dataDirectory, "--Crawler:MaxInlineWait", "00:00:00.500");
        var target = await CrawlAsync(node, site.BaseUrl);

        Assert.Equal(2, target.GetProperty("pagesFetched").GetInt32());
        var tries = Requests("/busy");
        Assert.Equal(2, tries.Count);
        var after429 = requests.Where(r => r.Ticks > tries[0].Ticks).Min(r => r.Ticks);
        Assert.True(Stopwatch.GetElapsedTime(tries[0].Ticks, after429) >= TimeSpan.FromSeconds(2), "the host was asked again before Retry-After passed");
    }

    [Fact]
    public async Task A_host_that_keeps_failing_is_paused_not_hammered()
    {
        await using var site = await SiteAsync(app =>
        {
            app.MapGet("/", () => Html(string.Concat(Enumerable.Range(1, 5).Select(i => $"<a href='/broken/{i}'>{i}</a>"))));
            app.MapGet("/broken/{i:int}", (int i) => Results.StatusCode(500));
        });
        await using var node = await TestNode.StartAsync(dataDirectory,
            "--Crawler:PauseHostAfterFailures", "3", "--Crawler:HostPause", "00:00:02", "--Crawler:MaxAttemptsPerPage", "1");
        var target = await CrawlAsync(node, site.BaseUrl);

        Assert.Equal(5, target.GetProperty("errors").GetInt32());
        var broken = requests.Where(r => r.Path.StartsWith("/broken/")).OrderBy(r => r.Ticks).ToList();
        Assert.Equal(5, broken.Count); // each failing page once: no retry storm
        var pause = Stopwatch.GetElapsedTime(broken[2].Ticks, broken[3].Ticks);
        var second = Stopwatch.GetElapsedTime(broken[3].Ticks, broken[4].Ticks);
        output.WriteLine($"pause after 3 failures: {pause.TotalSeconds:0.00} s, after the 4th: {second.TotalSeconds:0.00} s");
        Assert.True(pause >= TimeSpan.FromSeconds(2), $"paused only {pause}");
        Assert.True(second >= TimeSpan.FromSeconds(4), $"the second pause ({second}) did not double");
    }

    [Fact]
    public async Task Robots_txt_answering_5xx_closes_the_site_until_it_answers()
    {
        var robots = 0;
        await using var site = await SiteAsync(app =>
        {
            app.MapGet("/robots.txt", () => Interlocked.Increment(ref robots) == 1 ? Results.StatusCode(500) : Results.Text("User-agent: *\nDisallow: /no/\n"));
            app.MapGet("/", () => Html("<a href='/yes'>yes</a><a href='/no/x'>no</a>"));
            app.MapGet("/yes", () => Html("<p>yes</p>"));
        });
        await using var node = await TestNode.StartAsync(dataDirectory, "--Crawler:RobotsRetryAfterServerError", "00:00:01",
            "--Crawler:MaxInlineWait", "00:00:00.200");
        var target = await CrawlAsync(node, site.BaseUrl);

        Assert.Equal(2, target.GetProperty("pagesFetched").GetInt32());
        var robotsRequests = Requests("/robots.txt");
        Assert.Equal(2, robotsRequests.Count);
        // Nothing but robots.txt was asked for until robots.txt answered.
        Assert.DoesNotContain(requests, r => r.Path != "/robots.txt" && r.Ticks < robotsRequests[1].Ticks);
        Assert.Empty(Requests("/no/x"));
    }

    [Fact]
    public async Task A_revisit_fetches_only_new_or_changed_images_with_conditional_requests()
    {
        var original = TestImages.Scene(seed: 31);
        var leak = TestImages.ResizedJpeg(original, 0.7, 80);
        var lastModified = new DateTimeOffset(2024, 1, 2, 3, 4, 5, TimeSpan.Zero);
        var secondRound = false;
        await using var site = await SiteAsync(app =>
        {
            app.MapGet("/", () => Html("<a href='/a'>a</a>" + (secondRound ? "<a href='/new'>new</a>" : "")));
            app.MapGet("/a", () => Html("<img src='/etag.jpg'><img src='/dated.jpg'>"));
            app.MapGet("/new", () => Html("<img src='/leak.jpg'>"));
            app.MapGet("/etag.jpg", (HttpRequest request, HttpResponse response) =>
            {
                if (request.Headers.IfNoneMatch == "\"e1\"") return Results.StatusCode(304);
                response.Headers.ETag = "\"e1\"";
                return Results.Bytes(ClusterCrawlTests.Pattern(41, 300, 200), "image/jpeg");
            });
            app.MapGet("/dated.jpg", (HttpRequest request, HttpResponse response) =>
            {
                if (request.GetTypedHeaders().IfModifiedSince >= lastModified) return Results.StatusCode(304);
                response.GetTypedHeaders().LastModified = lastModified;
                return Results.Bytes(ClusterCrawlTests.Pattern(42, 300, 200), "image/jpeg");
            });
            app.MapGet("/leak.jpg", () => Results.Bytes(leak, "image/jpeg"));
        });
        await using var node = await TestNode.StartAsync(dataDirectory,
            "--Crawler:KeepAlivePeriod", "00:00:01", "--Cluster:Reminders:MinimumReminderPeriod", "00:00:01");
        await LeakToWebhookTests.RegisterAsync(node.Http, original, "revisit.png", "Revisit");
        var grains = node.Services.GetRequiredService<IGrainFactory>();
        var target = grains.GetGrain<ICrawlTargetGrain>("revisit-test");
        await target.StartAsync(new TargetSpec(site.BaseUrl, CrawlScopeKind.Host, 2, 50, [], Workspace.Default, RevisitMinutes: 2.0 / 60));

        var first = await Polling.UntilAsync(() => target.GetProgressAsync(), p => p!.State == TargetStates.Done, TimeSpan.FromSeconds(60), "round 1");
        Assert.Equal(2, first!.ImagesFetched);
        Assert.Equal(0, first.Matches);
        Assert.NotNull(first.NextRevisitAt);
        secondRound = true;

        var second = await Polling.UntilAsync(() => target.GetProgressAsync(), p => p!.Round == 2 && p.State == TargetStates.Done,
            TimeSpan.FromSeconds(60), "round 2");
        output.WriteLine($"round 2: {second!.PagesFetched} pages in all, {second.ImagesFetched} images fetched in all, {second.ImagesUnchanged} unchanged, {second.Matches} matches");
        Assert.Equal(3, second.ImagesFetched); // the two unchanged images answered 304; only the new one came
        Assert.Equal(2, second.ImagesUnchanged);
        Assert.Equal(1, second.Matches);
        Assert.Equal(["\"e1\""], Requests("/etag.jpg").Skip(1).Select(r => r.Validator).Distinct());
        Assert.All(Requests("/dated.jpg").Skip(1), r => Assert.NotNull(r.Validator));
    }

    [Fact]
    public async Task A_crawl_stopped_halfway_resumes_after_a_restart_and_loses_no_page()
    {
        const int posts = 40;
        await using var site = await SiteAsync(app =>
        {
            app.MapGet("/", () => Html(string.Concat(Enumerable.Range(1, posts).Select(i => $"<a href='/post/{i}'>{i}</a>"))));
            app.MapGet("/post/{i:int}", (int i) => Html($"<p>post {i}</p>"));
        });
        string[] slow = ["--Crawler:MinDelayPerHost", "00:00:00.100"];
        string id;
        await using (var node = await TestNode.StartAsync(dataDirectory, slow))
        {
            var created = await node.Http.PostAsJsonAsync("/api/targets", new { url = site.BaseUrl, scope = "host", maxDepth = 2, maxPages = 100 });
            id = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
            await Polling.UntilAsync(() => node.Http.GetFromJsonAsync<JsonElement>($"/api/targets/{id}"),
                t => t.GetProperty("pagesFetched").GetInt32() >= 10, TimeSpan.FromSeconds(60), "ten pages");
        }
        var beforeRestart = requests.Count(r => r.Path.StartsWith("/post/"));
        Assert.True(beforeRestart < posts, "the crawl finished before the node stopped");

        await using (var node = await TestNode.StartAsync(dataDirectory, slow))
        {
            var target = await Polling.UntilAsync(() => node.Http.GetFromJsonAsync<JsonElement>($"/api/targets/{id}"),
                t => t.GetProperty("state").GetString() is "done" or "failed", TimeSpan.FromSeconds(60), "the resumed crawl");
            Assert.Equal("done", target.GetProperty("state").GetString());
            Assert.Equal(posts + 1, target.GetProperty("pagesFetched").GetInt32());
        }
        var fetched = requests.Where(r => r.Path.StartsWith("/post/")).GroupBy(r => r.Path).ToList();
        Assert.Equal(posts, fetched.Count);
        // Only pages in flight when the node stopped may have been fetched twice.
        Assert.True(fetched.Count(g => g.Count() > 1) <= 2, $"pages fetched twice: {string.Join(", ", fetched.Where(g => g.Count() > 1).Select(g => g.Key))}");
    }
}
