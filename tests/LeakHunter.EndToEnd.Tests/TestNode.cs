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
    /// <summary>The operator key every test node accepts for the default workspace (<c>Auth:BootstrapApiKey</c>).</summary>
    public const string BootstrapKey = "lhk_test-bootstrap-key-for-the-default-workspace";

    private readonly WebApplication app;

    /// <summary>Calls the node with the bootstrap key: the default workspace, as an operator.</summary>
    public HttpClient Http { get; }
    public Uri BaseUrl { get; }
    public IServiceProvider Services => app.Services;
    public string DataDirectory { get; }

    private TestNode(WebApplication app, Uri baseUrl, string dataDirectory)
    {
        this.app = app;
        DataDirectory = dataDirectory;
        BaseUrl = baseUrl;
        Http = ClientWithKey(BootstrapKey);
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
            "--Auth:BootstrapApiKey", BootstrapKey,
            .. extraArgs,
        ];
        var app = NodeHost.Build(args, role);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new TestNode(app, new Uri(address), dataDirectory);
    }

    /// <summary>A client of this node that sends the given API key (null: no credentials at all).</summary>
    public HttpClient ClientWithKey(string? apiKey)
    {
        var client = new HttpClient { BaseAddress = BaseUrl, Timeout = TimeSpan.FromSeconds(60) };
        if (apiKey is not null) client.DefaultRequestHeaders.Authorization = new("Bearer", apiKey);
        return client;
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private bool disposed;

    /// <summary>Stops the node; a test may stop one early, before its scope ends.</summary>
    public async ValueTask DisposeAsync()
    {
        if (disposed) return;
        disposed = true;
        Http.Dispose();
        await app.StopAsync();
        await app.DisposeAsync();
    }
}
