using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace LeakHunter.EndToEnd.Tests;

/// <summary>
/// One Kestrel server answering on several loopback addresses (127.0.0.2, 127.0.0.3, … all reach
/// loopback on Linux) on one port, so a crawler sees several hosts. Records the arrival time of
/// every request per host, to check politeness.
/// </summary>
public sealed class MultiHostSite : IAsyncDisposable
{
    private readonly WebApplication app;

    public int Port { get; }
    public IReadOnlyList<string> Hosts { get; }
    /// <summary>Host (address:port) to (arrival in Stopwatch ticks, path) of every request.</summary>
    public ConcurrentDictionary<string, ConcurrentQueue<(long Ticks, string Path)>> Requests { get; } = new(StringComparer.Ordinal);

    private MultiHostSite(WebApplication app, int port, IReadOnlyList<string> hosts)
    {
        this.app = app;
        Port = port;
        Hosts = hosts;
    }

    public Uri Root(string host) => new($"http://{host}:{Port}/");

    public static async Task<MultiHostSite> StartAsync(int hostCount, Action<WebApplication, MultiHostSite> map)
    {
        var port = TestNode.FreePort();
        var hosts = Enumerable.Range(2, hostCount).Select(i => $"127.0.0.{i}").ToList();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls(hosts.Select(h => $"http://{h}:{port}").ToArray());
        var app = builder.Build();
        var site = new MultiHostSite(app, port, hosts);
        app.Use(async (context, next) =>
        {
            var ticks = Stopwatch.GetTimestamp();
            site.Requests.GetOrAdd(context.Request.Host.Value ?? "?", _ => new()).Enqueue((ticks, context.Request.Path + context.Request.QueryString));
            await next();
        });
        map(app, site);
        await app.StartAsync();
        return site;
    }

    /// <summary>The shortest time between two requests to one host, per host.</summary>
    public IReadOnlyDictionary<string, TimeSpan> ShortestGaps() => Requests.ToDictionary(r => r.Key, r =>
    {
        var ticks = r.Value.Select(v => v.Ticks).Order().ToList();
        return ticks.Count < 2 ? TimeSpan.MaxValue
            : ticks.Zip(ticks.Skip(1), (a, b) => Stopwatch.GetElapsedTime(a, b)).Min();
    });

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }
}
