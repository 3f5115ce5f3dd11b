using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace LeakHunter.EndToEnd.Tests;

/// <summary>A real Kestrel server on a free loopback port, recording every request it gets.</summary>
public sealed class LoopbackSite : IAsyncDisposable
{
    private readonly WebApplication app;

    public ConcurrentQueue<string> RequestedPaths { get; } = new();
    public Uri BaseUrl { get; }

    private LoopbackSite(WebApplication app, Uri baseUrl)
    {
        this.app = app;
        BaseUrl = baseUrl;
    }

    public static async Task<LoopbackSite> StartAsync(Action<WebApplication> map)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        ConcurrentQueue<string>? paths = null;
        app.Use(async (context, next) =>
        {
            paths?.Enqueue(context.Request.Path + context.Request.QueryString);
            await next();
        });
        map(app);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        var site = new LoopbackSite(app, new Uri(address.Replace("[::]", "127.0.0.1") + "/"));
        paths = site.RequestedPaths;
        return site;
    }

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }
}
