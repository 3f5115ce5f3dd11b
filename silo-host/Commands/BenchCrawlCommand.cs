using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using LeakHunter.Crawler.Grains;
using LeakHunter.Crawler.Urls;
using LeakHunter.Index.Originals;
using LeakHunter.SiloHost.Hosting;
using OpenCvSharp;

namespace LeakHunter.SiloHost.Commands;

/// <summary>
/// <c>leakhunter bench crawl [--hosts N] [--pages-per-host N] [--image-every N] [--silos 1,2,3] [--redis-server PATH]</c>:
/// serves a forum on loopback (hosts 127.0.0.2, 127.0.0.3, …, with no politeness delay), and for
/// each silo count starts a fresh redis-server and that many <c>leakhunter silo</c> processes, crawls
/// the forum with one target per host and reports pages and images per second and the silos' CPU
/// time per page. Images are fetched and fingerprinted (no originals are registered, so none matches).
/// The last line is one JSON object with the figures.
/// </summary>
public static class BenchCrawlCommand
{
    public static async Task<int> RunAsync(string[] args)
    {
        var opts = CliOptions.Parse("bench crawl", args, ["--hosts", "--pages-per-host", "--image-every", "--silos", "--redis-server"]);
        var hosts = opts.Int("--hosts", 6);
        var pagesPerHost = opts.Int("--pages-per-host", 100);
        var imageEvery = opts.Int("--image-every", 4);
        var redisServer = opts.Get("--redis-server") ?? "redis-server";
        int[] siloCounts;
        try
        {
            siloCounts = (opts.Get("--silos") ?? "1,2,3").Split(',').Select(int.Parse).ToArray();
        }
        catch (FormatException)
        {
            throw new UsageException("bench crawl: --silos takes a comma-separated list of silo counts, e.g. 1,2,3");
        }
        if (hosts is < 1 or > 200) throw new UsageException("bench crawl: --hosts must be between 1 and 200");
        if (pagesPerHost < 2) throw new UsageException("bench crawl: --pages-per-host must be at least 2");
        if (siloCounts.Any(n => n is < 1 or > 16)) throw new UsageException("bench crawl: silo counts must be between 1 and 16");

        var root = Directory.CreateTempSubdirectory("leakhunter-bench-crawl-").FullName;
        try
        {
            await using var site = await BenchSite.StartAsync(hosts, pagesPerHost, imageEvery);
            Console.WriteLine($"forum: {hosts} hosts x {site.PagesPerHost} pages, {site.ImagesPerHost} images per host, on port {site.Port}; {Environment.ProcessorCount} cores");
            var runs = new List<object>();
            foreach (var silos in siloCounts)
            {
                var run = await RunOnceAsync(site, silos, redisServer, Path.Combine(root, $"silos{silos}"));
                Console.WriteLine($"{silos} silo(s): {run.Pages} pages, {run.Images} images in {run.Seconds:0.00} s: " +
                    $"{run.Pages / run.Seconds:0.0} pages/s, {run.Images / run.Seconds:0.0} images/s, {run.CpuSeconds * 1000 / run.Pages:0.00} ms CPU per page " +
                    $"(pages per silo: {string.Join(", ", run.PagesBySilo.OrderBy(p => p.Key).Select(p => p.Value))})");
                runs.Add(new
                {
                    silos,
                    seconds = Math.Round(run.Seconds, 2),
                    pages = run.Pages,
                    images = run.Images,
                    pagesPerSecond = Math.Round(run.Pages / run.Seconds, 1),
                    imagesPerSecond = Math.Round(run.Images / run.Seconds, 1),
                    cpuMsPerPage = Math.Round(run.CpuSeconds * 1000 / run.Pages, 2),
                    pagesBySilo = run.PagesBySilo.OrderBy(p => p.Key).Select(p => p.Value).ToArray(),
                });
            }
            Console.WriteLine(JsonSerializer.Serialize(new
            {
                benchmark = "crawl",
                hosts,
                pagesPerHost = site.PagesPerHost,
                imagesPerHost = site.ImagesPerHost,
                delayMs = 0,
                cores = Environment.ProcessorCount,
                runs,
            }));
            return 0;
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    private sealed record RunFigures(int Pages, int Images, double Seconds, double CpuSeconds, Dictionary<string, int> PagesBySilo);

    private static async Task<RunFigures> RunOnceAsync(BenchSite site, int siloCount, string redisServer, string directory)
    {
        Directory.CreateDirectory(directory);
        var redisPort = FreePort();
        using var redis = Start(redisServer, ["--port", redisPort.ToString(), "--bind", "127.0.0.1", "--dir", directory, "--save", "", "--appendonly", "no"], null);
        var processes = new List<(Process Process, int Gateway)>();
        try
        {
            var endpoint = $"127.0.0.1:{redisPort}";
            await WaitAsync(() => PortOpen(redisPort), TimeSpan.FromSeconds(20), "redis-server to start");
            var (file, prefix) = Self();
            for (var i = 0; i < siloCount; i++)
            {
                var gateway = FreePort();
                var data = Path.Combine(directory, $"silo{i + 1}");
                Directory.CreateDirectory(data);
                processes.Add((Start(file, [.. prefix, "silo", "--redis", endpoint, "--data", data, "--silo-port", FreePort().ToString(),
                    "--gateway-port", gateway.ToString(), "--advertise", "127.0.0.1"], new Dictionary<string, string>
                {
                    ["LEAKHUNTER__Crawler__AllowPrivateAddresses"] = "true",
                    ["LEAKHUNTER__Crawler__MinDelayPerHost"] = "00:00:00",
                    ["LEAKHUNTER__Logging__LogLevel__Default"] = "Warning",
                }), gateway));
            }
            await WaitAsync(() => processes.All(p => PortOpen(p.Gateway)), TimeSpan.FromSeconds(120), "the silos to start");

            await using var client = NodeHost.Build(["--redis", endpoint, "--urls", "http://127.0.0.1:0", "--data", Path.Combine(directory, "client"),
                "--Logging:LogLevel:Default", "Warning"], NodeRole.Dashboard);
            await client.StartAsync();
            var grains = client.Services.GetRequiredService<IGrainFactory>();
            await WaitAsync(async () => (await grains.GetGrain<IManagementGrain>(0).GetHosts(onlyActive: true)).Count == siloCount,
                TimeSpan.FromSeconds(60), "every silo to join");

            var cpuBefore = processes.Sum(p => Cpu(p.Process));
            var watch = Stopwatch.StartNew();
            var targets = site.Hosts.Select(h => grains.GetGrain<ICrawlTargetGrain>($"bench-{siloCount}-{h}")).ToList();
            await Task.WhenAll(site.Hosts.Zip(targets, (h, t) =>
                t.StartAsync(new TargetSpec(site.Root(h), CrawlScopeKind.Host, 2, site.PagesPerHost + 10, [], Workspace.Default))));
            TargetProgress?[] progress = [];
            await WaitAsync(async () =>
            {
                progress = await Task.WhenAll(targets.Select(t => t.GetProgressAsync()));
                return progress.All(p => p?.State is TargetStates.Done or TargetStates.Failed);
            }, TimeSpan.FromMinutes(10), "the crawl", poll: TimeSpan.FromMilliseconds(50));
            var seconds = watch.Elapsed.TotalSeconds;
            var cpu = processes.Sum(p => Cpu(p.Process)) - cpuBefore;
            await client.StopAsync();

            var bySilo = new Dictionary<string, int>(StringComparer.Ordinal);
            foreach (var p in progress)
                foreach (var (silo, count) in p!.PagesBySilo ?? new Dictionary<string, int>()) bySilo[silo] = bySilo.GetValueOrDefault(silo) + count;
            return new RunFigures(progress.Sum(p => p!.PagesFetched), progress.Sum(p => p!.ImagesFetched), seconds, cpu, bySilo);
        }
        finally
        {
            foreach (var (process, _) in processes) Stop(process);
            Stop(redis);
        }
    }

    /// <summary>How to run this executable again: the apphost, or dotnet with this assembly.</summary>
    private static (string File, string[] Prefix) Self()
    {
        var path = Environment.ProcessPath ?? "dotnet";
        return Path.GetFileNameWithoutExtension(path) == "dotnet" ? (path, [typeof(BenchCrawlCommand).Assembly.Location]) : (path, []);
    }

    private static Process Start(string file, IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args) start.ArgumentList.Add(arg);
        foreach (var (name, value) in environment ?? new Dictionary<string, string>()) start.Environment[name] = value;
        try
        {
            var process = Process.Start(start) ?? throw new UsageException($"bench crawl: could not start {file}");
            process.OutputDataReceived += (_, _) => { };
            process.ErrorDataReceived += (_, e) => { if (e.Data is { Length: > 0 } line && line.Contains("rror")) Console.Error.WriteLine($"  [{Path.GetFileName(file)}] {line}"); };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            return process;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new UsageException($"bench crawl: cannot run '{file}' ({e.Message}); install redis-server or pass --redis-server PATH");
        }
    }

    private static void Stop(Process process)
    {
        try
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
            process.WaitForExit(10_000);
        }
        catch (InvalidOperationException)
        {
            // never started
        }
    }

    private static double Cpu(Process process)
    {
        try
        {
            process.Refresh();
            return process.TotalProcessorTime.TotalSeconds;
        }
        catch (InvalidOperationException)
        {
            return 0;
        }
    }

    private static async Task WaitAsync(Func<bool> done, TimeSpan timeout, string what) =>
        await WaitAsync(() => Task.FromResult(done()), timeout, what);

    private static async Task WaitAsync(Func<Task<bool>> done, TimeSpan timeout, string what, TimeSpan? poll = null)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                if (await done()) return;
            }
            catch (Exception e) when (e is not OutOfMemoryException && deadline.Elapsed < timeout)
            {
                // not up yet
            }
            if (deadline.Elapsed > timeout) throw new TimeoutException($"bench crawl: timed out waiting for {what}");
            await Task.Delay(poll ?? TimeSpan.FromMilliseconds(200));
        }
    }

    private static bool PortOpen(int port)
    {
        try
        {
            using var client = new TcpClient();
            client.Connect(IPAddress.Loopback, port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>
    /// The benchmark's forum, the same on every host: a home page, list pages of twenty posts each,
    /// and on every n-th post one picture of its own (a small JPEG, different on every host and post).
    /// </summary>
    private sealed class BenchSite : IAsyncDisposable
    {
        private const int PostsPerList = 20;
        private readonly WebApplication app;

        private BenchSite(WebApplication app, int port, IReadOnlyList<string> hosts, int lists, int imageEvery)
        {
            this.app = app;
            Port = port;
            Hosts = hosts;
            Lists = lists;
            ImageEvery = imageEvery;
        }

        public int Port { get; }
        public IReadOnlyList<string> Hosts { get; }
        private int Lists { get; }
        private int ImageEvery { get; }
        public int PagesPerHost => 1 + Lists + Lists * PostsPerList;
        public int ImagesPerHost => ImageEvery <= 0 ? 0 : (Lists * PostsPerList + ImageEvery - 1) / ImageEvery;
        public Uri Root(string host) => new($"http://{host}:{Port}/");

        public static async Task<BenchSite> StartAsync(int hostCount, int pagesPerHost, int imageEvery)
        {
            var port = FreePort();
            var hosts = Enumerable.Range(2, hostCount).Select(i => $"127.0.0.{i}").ToList();
            var lists = Math.Max(1, (pagesPerHost - 1) / (PostsPerList + 1));
            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.WebHost.UseUrls(hosts.Select(h => $"http://{h}:{port}").ToArray());
            var app = builder.Build();
            var site = new BenchSite(app, port, hosts, lists, imageEvery);
            static IResult Html(string body) => Results.Content($"<!doctype html><html><body>{body}</body></html>", "text/html");
            app.MapGet("/", () => Html(string.Concat(Enumerable.Range(0, lists).Select(l => $"<a href='/list/{l}'>list {l}</a> "))));
            app.MapGet("/list/{l:int}", (int l) => Html(string.Concat(Enumerable.Range(0, PostsPerList)
                .Select(k => $"<a href='/post/{l * PostsPerList + k}'>post</a> "))));
            app.MapGet("/post/{p:int}", (int p, HttpRequest request) => Html($"<h1>post {p}</h1><p>{new string('x', 2000)}</p>"
                + (imageEvery > 0 && p % imageEvery == 0 ? $"<img src='/img/{p}.jpg'>" : "")));
            app.MapGet("/img/{p:int}.jpg", (int p, HttpRequest request) => Results.Bytes(Picture(HashCode.Combine(request.Host.Host, p)), "image/jpeg"));
            await app.StartAsync();
            return site;
        }

        /// <summary>A 320x240 picture of noise and shapes, different for every seed.</summary>
        private static byte[] Picture(int seed)
        {
            var random = new Random(seed);
            using var image = new Mat(240, 320, MatType.CV_8UC3, new Scalar(random.Next(256), random.Next(256), random.Next(256)));
            for (var i = 0; i < 25; i++)
                Cv2.Rectangle(image, new Rect(random.Next(300), random.Next(220), random.Next(5, 80), random.Next(5, 60)),
                    new Scalar(random.Next(256), random.Next(256), random.Next(256)), -1);
            return image.ImEncode(".jpg", new ImageEncodingParam(ImwriteFlags.JpegQuality, 85));
        }

        public async ValueTask DisposeAsync()
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }
}
