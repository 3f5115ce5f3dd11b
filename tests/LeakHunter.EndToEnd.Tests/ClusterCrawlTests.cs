using LeakHunter.Index.Originals;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using LeakHunter.Crawler.Grains;
using LeakHunter.Dashboard.Api;
using LeakHunter.SiloHost.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using OpenCvSharp;
using Xunit.Abstractions;

namespace LeakHunter.EndToEnd.Tests;

/// <summary>
/// The cluster as an operator runs it: a real redis-server and three silos as separate processes,
/// crawling a forum spread over eight loopback hosts (a few hundred pages, six leaked copies hidden
/// the ways forums hide pictures). One silo is killed halfway; the crawl still finds every leak
/// exactly once, keeps every host's pace, and ends with what a single silo finds on its own.
/// </summary>
[Collection(NodeCollection.Name)]
public sealed class ClusterCrawlTests(ITestOutputHelper output)
{
    private const string ApiKey = "cluster-crawl-test-key-0123456789abcdef";
    private const int HostCount = 8;
    private const int ListPages = 5;
    private const int PostsPerList = 7;
    private static readonly TimeSpan MinDelay = TimeSpan.FromMilliseconds(200);

    /// <summary>Pages per host: home, the list pages, their posts; plus the attachment page on host 3 and the two orphans on host 2.</summary>
    private const int ExpectedPages = HostCount * (1 + ListPages + ListPages * PostsPerList) + 1 + 2;

    private sealed record Leak(string Title, byte[] Original, byte[] Copy);

    private sealed record RunResult(int Pages, int ImagesSeen, IReadOnlySet<string> Leaks, IReadOnlyDictionary<string, int> PagesBySilo,
        IReadOnlyDictionary<string, int> ImagesBySilo, int Errors);

    [Fact]
    public async Task Three_silo_processes_crawl_politely_survive_a_killed_silo_and_find_what_one_silo_finds()
    {
        var started = Stopwatch.StartNew();
        var root = Directory.CreateTempSubdirectory("leakhunter-cluster-crawl-").FullName;
        var leaks = Enumerable.Range(1, 6).Select(i =>
        {
            var original = TestImages.Scene(seed: 100 + i);
            return new Leak($"leak-{i}", original, TestImages.ResizedJpeg(original, 0.55 + 0.05 * i, 70 + i));
        }).ToArray();
        await using var site = await MultiHostSite.StartAsync(HostCount, (app, s) => MapForum(app, s, leaks));
        try
        {
            var three = await RunAsync(site, leaks, siloCount: 3, killHalfway: true, Path.Combine(root, "three"));
            output.WriteLine($"3 silos (one killed): {three.Pages} pages, {three.ImagesSeen} images, {three.Leaks.Count} leaks, errors {three.Errors}, after {started.Elapsed.TotalSeconds:0} s");

            var gaps = site.ShortestGaps();
            foreach (var (host, gap) in gaps.OrderBy(g => g.Key))
                output.WriteLine($"  shortest gap between two requests to {host}: {gap.TotalMilliseconds:0.0} ms ({site.Requests[host].Count} requests)");
            Assert.Equal(HostCount, gaps.Count);
            // Arrival times at the server; 1 ms allows for timer rounding, not for a second request in flight.
            Assert.All(gaps.Values, gap => Assert.True(gap >= MinDelay - TimeSpan.FromMilliseconds(1), $"two requests to one host {gap.TotalMilliseconds:0.0} ms apart"));
            Assert.DoesNotContain(site.Requests.Values.SelectMany(r => r), r => r.Path.StartsWith("/private/"));

            site.Requests.Clear();
            var one = await RunAsync(site, leaks, siloCount: 1, killHalfway: false, Path.Combine(root, "one"));
            output.WriteLine($"1 silo: {one.Pages} pages, {one.ImagesSeen} images, {one.Leaks.Count} leaks, errors {one.Errors}, after {started.Elapsed.TotalSeconds:0} s");

            Assert.Equal(ExpectedPages, three.Pages);
            Assert.Equal(one.Pages, three.Pages);
            Assert.Equal(one.ImagesSeen, three.ImagesSeen);
            Assert.Equal(one.Leaks.Order(), three.Leaks.Order());
            Assert.Equal(leaks.Select(l => l.Title).Order(), three.Leaks.Select(l => l.Split(' ')[0]).Distinct().Order());
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    private async Task<RunResult> RunAsync(MultiHostSite site, Leak[] leaks, int siloCount, bool killHalfway, string directory)
    {
        await using var redis = await RedisServer.StartAsync();
        var environment = new Dictionary<string, string>
        {
            ["LEAKHUNTER__Crawler__AllowPrivateAddresses"] = "true",
            ["LEAKHUNTER__Crawler__MinDelayPerHost"] = "00:00:00.200",
            ["LEAKHUNTER__Crawler__KeepAlivePeriod"] = "00:00:02",
            ["LEAKHUNTER__Cluster__Reminders__MinimumReminderPeriod"] = "00:00:01",
            // The killed silo is declared dead within seconds, yet a busy machine (three silos on two cores)
            // does not get a live one declared dead.
            ["LEAKHUNTER__Cluster__Membership__ProbeTimeout"] = "00:00:02",
            ["LEAKHUNTER__Cluster__Membership__NumMissedProbesLimit"] = "3",
            ["LEAKHUNTER__Auth__BootstrapApiKey"] = ApiKey,
            ["LEAKHUNTER__Logging__LogLevel__Default"] = "Warning",
        };
        var silos = new List<SiloProcess>();
        var deliveries = new ConcurrentQueue<string>();
        await using var receiver = await LoopbackSite.StartAsync(app => app.MapPost("/hook", async (HttpRequest request) =>
        {
            deliveries.Enqueue(await new StreamReader(request.Body).ReadToEndAsync());
            return Results.Ok();
        }));
        try
        {
            for (var i = 0; i < siloCount; i++)
                silos.Add(SiloProcess.Start(redis.Endpoint, Path.Combine(directory, $"silo{i + 1}"), environment));
            await using var dashboard = await StartDashboardAsync(redis, Path.Combine(directory, "dashboard"), silos);
            var grains = dashboard.Services.GetRequiredService<IGrainFactory>();
            var http = dashboard.Http;
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", ApiKey);

            var titles = new Dictionary<string, string>();
            foreach (var leak in leaks)
                titles[await LeakToWebhookTests.RegisterAsync(http, leak.Original, $"{leak.Title}.png", leak.Title)] = leak.Title;
            Assert.Equal(HttpStatusCode.OK, (await http.PostAsJsonAsync("/api/webhooks",
                new { url = new Uri(receiver.BaseUrl, "hook"), secret = "cluster-crawl-secret-0123456789" })).StatusCode);
            // Every silo's matcher must know every original before the crawl, or a silo could miss a leak.
            await Polling.UntilAsync(() => Try(() => ClusterApi.GetViewAsync(grains, Workspace.Default)),
                v => v is not null && v.Silos.Count(s => s.Status == "active" && s.OriginalsKnown == leaks.Length) == siloCount,
                TimeSpan.FromSeconds(90), "every silo's matcher to learn the originals");

            var targetIds = new List<string>();
            foreach (var host in site.Hosts)
            {
                var created = await http.PostAsJsonAsync("/api/targets", new { url = site.Root(host), scope = "host", maxDepth = 2, maxPages = 200 });
                Assert.Equal(HttpStatusCode.OK, created.StatusCode);
                targetIds.Add((await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!);
            }

            string? victim = null;
            var progress = await Polling.UntilAsync(async () =>
            {
                var all = await Try(() => Task.WhenAll(targetIds.Select(id => grains.GetGrain<ICrawlTargetGrain>(id).GetProgressAsync())));
                if (all is null || all.Any(p => p is null)) return null;
                if (killHalfway && victim is null && all.Sum(p => p!.PagesFetched) >= ExpectedPages / 2)
                {
                    // Kill the silo running the most targets: their reminders must bring them back elsewhere.
                    victim = all.Where(p => p!.State == TargetStates.Running && p.Silo is not null)
                        .GroupBy(p => p!.Silo!).OrderByDescending(g => g.Count()).Select(g => g.Key).FirstOrDefault() ?? silos[0].Endpoint;
                    var done = all.Sum(p => p!.PagesBySilo!.GetValueOrDefault(victim));
                    output.WriteLine($"killing silo {victim} (runs {all.Count(p => p!.Silo == victim)} targets, fetched {done} pages) at {all.Sum(p => p!.PagesFetched)} pages");
                    silos.Single(s => s.Endpoint == victim).Kill();
                }
                return all;
            }, all => all is not null && all.All(p => p!.State is TargetStates.Done or TargetStates.Failed), TimeSpan.FromSeconds(150), "the crawl to finish");
            if (killHalfway) Assert.NotNull(victim);

            var pagesBySilo = Sum(progress!.Select(p => p!.PagesBySilo!));
            var imagesBySilo = Sum(progress!.Select(p => p!.ImagesBySilo!));
            output.WriteLine($"{siloCount} silo(s): pages per silo {Show(pagesBySilo)}; images per silo {Show(imagesBySilo)}");
            var view = await ClusterApi.GetViewAsync(grains, Workspace.Default);
            output.WriteLine("GET /api/cluster: " + JsonSerializer.Serialize(view.Silos.Select(s => new { s.Endpoint, s.Status, s.PagesFetched, s.ImagesFetched, s.ImagesMatched })));
            foreach (var silo in silos)
                Assert.True(pagesBySilo.GetValueOrDefault(silo.Endpoint) > 0, $"silo {silo.Endpoint} did no work: {Show(pagesBySilo)}");
            Assert.Equal(siloCount, pagesBySilo.Count);
            foreach (var p in progress!) Assert.Equal(TargetStates.Done, p!.State);
            var errors = progress!.Sum(p => p!.Errors);
            foreach (var p in progress!.Where(p => p!.Errors > 0)) output.WriteLine($"  target {p!.Spec.Url}: {p.Errors} errors, last: {p.LastError}");

            // Each leak is in the ledger once and alerted once (a retried delivery keeps its match id).
            var matches = await http.GetFromJsonAsync<JsonElement>("/api/matches");
            var found = matches.EnumerateArray().Select(m => $"{m.GetProperty("originalTitle").GetString()} {m.GetProperty("imageUrl").GetString()}").ToList();
            foreach (var leak in found.Order()) output.WriteLine($"  found {leak}");
            Assert.Equal(found.Count, found.Distinct().Count());
            await Polling.UntilAsync(() => Task.FromResult(deliveries.Select(MatchIdOf).Distinct().Count()), n => n >= found.Count,
                TimeSpan.FromSeconds(30), "one webhook per leak");
            var delivered = deliveries.Select(d => JsonDocument.Parse(d).RootElement)
                .Select(e => (Id: e.GetProperty("id").GetString(), Leak: $"{titles[e.GetProperty("originalId").GetString()!]} {e.GetProperty("imageUrl").GetString()}"))
                .Distinct().ToList();
            Assert.Equal(found.Order(), delivered.Select(d => d.Leak).Order());

            return new RunResult(progress!.Sum(p => p!.PagesFetched), progress!.Sum(p => p!.ImagesSeen), found.ToHashSet(), pagesBySilo, imagesBySilo, errors);
        }
        catch (Exception e)
        {
            foreach (var silo in silos) output.WriteLine($"--- {silo.Endpoint} log tail:\n{silo.LogTail()}");
            // Last, so that a log cut to its final lines still says what failed.
            output.WriteLine($"--- {siloCount} silo(s) failed: {e.GetType().Name}: {e.Message}");
            throw;
        }
        finally
        {
            foreach (var silo in silos) await silo.DisposeAsync();
        }
    }

    private static string MatchIdOf(string body) => JsonDocument.Parse(body).RootElement.GetProperty("id").GetString()!;

    /// <summary>The dashboard as an Orleans client in this process, once every silo answers its health check.</summary>
    private static async Task<TestNode> StartDashboardAsync(RedisServer redis, string directory, List<SiloProcess> silos)
    {
        await Polling.UntilAsync(() => Task.FromResult(File.Exists(silos[^1].LogFile) && silos.All(s => s.HasExited || s.GatewayOpen())),
            up => up, TimeSpan.FromSeconds(90), "the silos to start");
        Assert.All(silos, s => Assert.False(s.HasExited, s.LogTail()));
        return await TestNode.StartAsync(NodeRole.Dashboard, directory, "--redis", redis.Endpoint, "--advertise", "127.0.0.1",
            "--Auth:BootstrapApiKey", ApiKey);
    }

    private static async Task<T?> Try<T>(Func<Task<T>> probe) where T : class
    {
        try
        {
            return await probe().WaitAsync(TimeSpan.FromSeconds(5));
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return null; // a silo is being declared dead, a grain is moving: ask again
        }
    }

    private static Dictionary<string, int> Sum(IEnumerable<IReadOnlyDictionary<string, int>> parts)
    {
        var sum = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var part in parts)
            foreach (var (silo, count) in part) sum[silo] = sum.GetValueOrDefault(silo) + count;
        return sum;
    }

    private static string Show(IReadOnlyDictionary<string, int> counts) => string.Join(", ", counts.OrderBy(c => c.Key).Select(c => $"{c.Key}={c.Value}"));

    /// <summary>
    /// The forum, the same on every host: a home page, five list pages chained by rel=next, seven
    /// posts per list page, a disallowed /private/ area. Leaks hide behind a thumbnail's attachment
    /// page, in an inline style, behind data-lazy-src and noscript, in a style element, behind a
    /// redirect from one host to another, on an orphan page only a gzipped sitemap index names, and
    /// one copy is shown by a second host too.
    /// </summary>
    private static void MapForum(WebApplication app, MultiHostSite site, Leak[] leaks)
    {
        var port = site.Port;
        var images = new Dictionary<string, byte[]>
        {
            ["/thumb/1.jpg"] = Pattern(901, 120, 90),
            ["/full/1.jpg"] = leaks[0].Copy,
            ["/bg/2.jpg"] = leaks[1].Copy,
            ["/lazy/3.jpg"] = leaks[2].Copy,
            ["/css/4.jpg"] = leaks[3].Copy,
            ["/files/5.jpg"] = leaks[4].Copy,
            ["/orphan-img/6.jpg"] = leaks[5].Copy,
            ["/img/b1.jpg"] = Pattern(902, 480, 360),
            ["/img/b2.jpg"] = Pattern(903, 400, 300),
            ["/img/b3.jpg"] = Pattern(904, 640, 480),
        };
        var posts = new Dictionary<string, string>
        {
            ["127.0.0.2/post/14"] = "<img src='/img/b1.jpg' alt='holiday'>",
            ["127.0.0.3/post/22"] = "<a href='/attachment/1'><img src='/thumb/1.jpg'></a>",
            ["127.0.0.3/attachment/1"] = "<h1>attachment</h1><img src='/full/1.jpg'>",
            ["127.0.0.4/post/35"] = "<div style=\"background-image: url('/bg/2.jpg')\">banner</div>",
            ["127.0.0.5/post/41"] = "<img class='lazy' data-lazy-src='/lazy/3.jpg'><noscript><img src='/lazy/3.jpg'></noscript>",
            ["127.0.0.6/post/52"] = "<style>.hero { background: url(/css/4.jpg) no-repeat }</style><div class='hero'></div>",
            ["127.0.0.7/post/13"] = $"<img src='http://127.0.0.8:{port}/hop/5.jpg'>",
            ["127.0.0.8/post/25"] = "<img src='/img/b2.jpg'>",
            ["127.0.0.9/post/31"] = "<img src='/img/b3.jpg'>",
            ["127.0.0.9/post/44"] = $"<p>reposted</p><img src='http://127.0.0.3:{port}/full/1.jpg'>",
            ["127.0.0.2/orphan/1"] = "<p>nobody links here</p>",
            ["127.0.0.2/orphan/2"] = "<img data-original='/orphan-img/6.jpg'>",
        };
        static IResult Html(string body) => Results.Content($"<!doctype html><html><body>{body}</body></html>", "text/html; charset=utf-8");
        string HostOf(HttpRequest request) => request.Host.Host;

        app.MapGet("/robots.txt", (HttpRequest request) => Results.Text(
            "User-agent: *\nDisallow: /private/\n" + (HostOf(request) == "127.0.0.2" ? $"Sitemap: http://127.0.0.2:{port}/sitemaps/index.xml.gz\n" : ""), "text/plain"));
        app.MapGet("/", (HttpRequest request) => Html(
            $"<a href='/list/1'>Forum</a> <a href='/private/members'>Members</a> <a href='http://127.0.0.9:{port}/'>Friends</a>"));
        app.MapGet("/list/{n:int}", (int n) => n is < 1 or > ListPages ? Results.NotFound() : Html(
            string.Concat(Enumerable.Range(0, PostsPerList).Select(k => $"<a href='/post/{n * 10 + k}'>post {n * 10 + k}</a> "))
            + (n < ListPages ? $"<a rel='next' href='/list/{n + 1}'>next</a>" : "")));
        app.MapGet("/post/{id:int}", (int id, HttpRequest request) =>
            Html($"<h1>post {id}</h1><a href='/'>home</a> " + posts.GetValueOrDefault($"{HostOf(request)}/post/{id}", "<p>just text</p>")));
        app.MapGet("/attachment/{id:int}", (int id, HttpRequest request) =>
            posts.TryGetValue($"{HostOf(request)}/attachment/{id}", out var body) ? Html(body) : Results.NotFound());
        app.MapGet("/orphan/{id:int}", (int id, HttpRequest request) =>
            posts.TryGetValue($"{HostOf(request)}/orphan/{id}", out var body) ? Html(body) : Results.NotFound());
        app.MapGet("/private/{**rest}", () => Html("<img src='/full/1.jpg'>"));
        app.MapGet("/hop/5.jpg", () => Results.Redirect($"http://127.0.0.9:{port}/files/5.jpg"));
        app.MapGet("/sitemaps/index.xml.gz", () => Results.Bytes(Gzip(
            $"<?xml version='1.0'?><sitemapindex xmlns='http://www.sitemaps.org/schemas/sitemap/0.9'><sitemap><loc>http://127.0.0.2:{port}/sitemaps/pages.xml</loc></sitemap></sitemapindex>"),
            "application/gzip"));
        app.MapGet("/sitemaps/pages.xml", () => Results.Text(
            $"<?xml version='1.0'?><urlset xmlns='http://www.sitemaps.org/schemas/sitemap/0.9'><url><loc>http://127.0.0.2:{port}/orphan/1</loc></url><url><loc>http://127.0.0.2:{port}/orphan/2</loc></url></urlset>",
            "application/xml"));
        foreach (var (path, bytes) in images) app.MapGet(path, () => Results.Bytes(bytes, "image/jpeg"));
    }

    private static byte[] Gzip(string text)
    {
        var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.Optimal, leaveOpen: true)) gzip.Write(Encoding.UTF8.GetBytes(text));
        return buffer.ToArray();
    }

    /// <summary>A detailed picture unlike <see cref="TestImages.Scene"/> (no text, no gradient): noise and ellipses.</summary>
    internal static byte[] Pattern(int seed, int width, int height)
    {
        var random = new Random(seed);
        using var image = new Mat(height, width, MatType.CV_8UC3);
        Cv2.Randu(image, new Scalar(0, 0, 0), new Scalar(255, 255, 255));
        Cv2.GaussianBlur(image, image, new OpenCvSharp.Size(9, 9), 3);
        for (var i = 0; i < 30; i++)
            Cv2.Ellipse(image, new Point(random.Next(width), random.Next(height)), new OpenCvSharp.Size(random.Next(5, width / 4), random.Next(5, height / 4)),
                random.Next(180), 0, 360, new Scalar(random.Next(256), random.Next(256), random.Next(256)), -1);
        return image.ImEncode(".jpg", new ImageEncodingParam(ImwriteFlags.JpegQuality, 85));
    }
}
