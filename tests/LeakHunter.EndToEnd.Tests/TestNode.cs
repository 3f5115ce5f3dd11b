using System.Net;
using System.Net.Sockets;
using LeakHunter.SiloHost.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;

namespace LeakHunter.EndToEnd.Tests;

/// <summary>A standalone LeakHunter node in this process, on free loopback ports, with its own data directory.</summary>
public sealed class TestNode : IAsyncDisposable
{
    private readonly WebApplication app;

    public HttpClient Http { get; }
    public IServiceProvider Services => app.Services;
    public string DataDirectory { get; }

    private TestNode(WebApplication app, Uri baseUrl, string dataDirectory)
    {
        this.app = app;
        DataDirectory = dataDirectory;
        Http = new HttpClient { BaseAddress = baseUrl, Timeout = TimeSpan.FromSeconds(60) };
    }

    public static Task<TestNode> StartAsync(string dataDirectory, params string[] extraArgs) =>
        StartAsync(NodeRole.Standalone, dataDirectory, extraArgs);

    public static async Task<TestNode> StartAsync(NodeRole role, string dataDirectory, params string[] extraArgs)
    {
        string[] args =
        [
            "--urls", "http://127.0.0.1:0",
            "--data", dataDirectory,
            "--silo-port", FreePort().ToString(),
            "--gateway-port", FreePort().ToString(),
            // The test sites live on loopback, which a production crawler must refuse.
            "--Crawler:AllowPrivateAddresses", "true",
            "--Crawler:MinDelayPerHost", "00:00:00.020",
            "--Logging:LogLevel:Default", "Warning",
            .. extraArgs,
        ];
        var app = NodeHost.Build(args, role);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new TestNode(app, new Uri(address), dataDirectory);
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await app.StopAsync();
        await app.DisposeAsync();
    }
}
