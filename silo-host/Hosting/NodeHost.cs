using System.Net;
using LeakHunter.Crawler;
using LeakHunter.Dashboard;
using LeakHunter.Index;
using LeakHunter.Index.Grains;
using LeakHunter.Index.Storage;
using LeakHunter.SiloHost.Commands;
using Orleans.Configuration;
using Orleans.Runtime.Hosting;
using StackExchange.Redis;

namespace LeakHunter.SiloHost.Hosting;

/// <summary>
/// Builds a LeakHunter process. Standalone: one Orleans silo with localhost clustering, state in
/// files under the data directory, the embedded index, and the dashboard and API in the same
/// process. Cluster: silos share Redis for membership, grain state, reminders and blobs, and the
/// dashboard joins as an Orleans client.
/// </summary>
public static class NodeHost
{
    public const string DefaultUrl = "http://127.0.0.1:5080";
    public const string ClusterId = "leakhunter";

    /// <summary>Command-line options and the configuration keys they set.</summary>
    public static readonly IReadOnlyDictionary<string, string> Options = new Dictionary<string, string>
    {
        ["--data"] = "DataDirectory",
        ["--urls"] = "urls",
        ["--redis"] = "Cluster:Redis",
        ["--silo-port"] = "Orleans:SiloPort",
        ["--gateway-port"] = "Orleans:GatewayPort",
        ["--advertise"] = "Orleans:AdvertisedAddress",
        ["--key-file"] = "Watermark:KeyFile",
    };

    public static WebApplication Build(string[] args, NodeRole role = NodeRole.Standalone)
    {
        CheckOptions(args);
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            Args = args,
            // appsettings.json ships beside the executable, whatever the working directory.
            ContentRootPath = AppContext.BaseDirectory,
        });
        // LEAKHUNTER__Section__Key environment variables, then the command line, which wins.
        builder.Configuration.AddEnvironmentVariables("LEAKHUNTER__");
        builder.Configuration.AddCommandLine(args, Options.ToDictionary(o => o.Key, o => o.Value));
        var configuration = builder.Configuration;

        var redis = configuration["Cluster:Redis"];
        if (role != NodeRole.Standalone && string.IsNullOrEmpty(redis))
            throw new UsageException($"'{role.ToString().ToLowerInvariant()}' needs --redis HOST:PORT (or LEAKHUNTER__Cluster__Redis)");
        if (role == NodeRole.Standalone && !string.IsNullOrEmpty(redis)) role = NodeRole.Silo;
        if (string.IsNullOrEmpty(configuration["urls"]))
            builder.WebHost.UseUrls(role == NodeRole.Silo ? "http://127.0.0.1:0" : DefaultUrl);

        var dataDirectory = Path.GetFullPath(configuration["DataDirectory"] ?? "data", Environment.CurrentDirectory);
        Directory.CreateDirectory(dataDirectory);

        IConnectionMultiplexer? redisConnection = null;
        if (redis is { Length: > 0 })
        {
            redisConnection = ConnectRedis(redis);
            builder.Services.AddSingleton(redisConnection);
            builder.Services.AddSingleton<IBlobStore>(new RedisBlobStore(redisConnection));
        }
        else builder.Services.AddSingleton<IBlobStore>(new FileBlobStore(Path.Combine(dataDirectory, "blobs")));

        if (role == NodeRole.Dashboard)
        {
            builder.UseOrleansClient(client =>
            {
                client.UseRedisClustering(redis!);
                client.Configure<ClusterOptions>(o => (o.ClusterId, o.ServiceId) = (ClusterId, ClusterId));
                client.Configure<ClientMessagingOptions>(o => o.ResponseTimeout = TimeSpan.FromMinutes(5));
            });
        }
        else
        {
            builder.Services.AddIndex(configuration, dataDirectory);
            builder.Services.AddCrawler(configuration);
            builder.UseOrleans(silo =>
            {
                var siloPort = configuration.GetValue("Orleans:SiloPort", EndpointOptions.DEFAULT_SILO_PORT);
                var gatewayPort = configuration.GetValue("Orleans:GatewayPort", EndpointOptions.DEFAULT_GATEWAY_PORT);
                if (redisConnection is null)
                {
                    silo.UseLocalhostClustering(siloPort, gatewayPort);
                    silo.Services.AddGrainStorage(StorageNames.State, (_, _) => new FileGrainStorage(Path.Combine(dataDirectory, "grains")));
                    // Crawls keep themselves alive and schedule revisits with reminders; a restart re-registers them (ResumeUnfinishedWork).
                    silo.UseInMemoryReminderService();
                }
                else
                {
                    silo.UseRedisClustering(redis!);
                    silo.AddRedisGrainStorage(StorageNames.State, o => o.ConfigurationOptions = ConfigurationOptions.Parse(redis!));
                    silo.UseRedisReminderService(o => o.ConfigurationOptions = ConfigurationOptions.Parse(redis!));
                    silo.UseSystemTextJsonGrainStorageSerializer();
                    silo.Configure<ClusterOptions>(o => (o.ClusterId, o.ServiceId) = (ClusterId, ClusterId));
                    silo.ConfigureEndpoints(AdvertisedAddress(configuration), siloPort, gatewayPort, listenOnAnyHostAddress: true);
                }
                // Tunable from configuration (tests shorten failure detection and reminder periods).
                silo.Configure<ReminderOptions>(configuration.GetSection("Cluster:Reminders"));
                silo.Configure<ClusterMembershipOptions>(configuration.GetSection("Cluster:Membership"));
                // A site grain may hold a request while it waits for its turn: allow for politeness delays.
                silo.Configure<SiloMessagingOptions>(o => o.ResponseTimeout = TimeSpan.FromMinutes(5));
                silo.AddStartupTask(ResumeUnfinishedWork.RunAsync);
            });
        }
        builder.Services.AddProblemDetails();
        if (role != NodeRole.Silo) builder.Services.AddDashboard(configuration);

        var app = builder.Build();
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        if (role == NodeRole.Silo) app.MapHealthCheck();
        else app.MapDashboard();
        app.Logger.LogInformation("LeakHunter {Role} node, data directory {DataDirectory}", role, dataDirectory);
        return app;
    }

    private static IConnectionMultiplexer ConnectRedis(string redis)
    {
        try
        {
            var options = ConfigurationOptions.Parse(redis);
            options.AbortOnConnectFail = false; // keep retrying while Redis starts
            return ConnectionMultiplexer.Connect(options);
        }
        catch (Exception e) when (e is ArgumentException or RedisException)
        {
            throw new UsageException($"bad --redis '{redis}': {e.Message}");
        }
    }

    /// <summary>The address other silos reach this one on: configured, or this host's first non-loopback IPv4.</summary>
    private static IPAddress AdvertisedAddress(IConfiguration configuration)
    {
        if (configuration["Orleans:AdvertisedAddress"] is { Length: > 0 } configured)
            return IPAddress.TryParse(configured, out var parsed) ? parsed : Dns.GetHostAddresses(configured).First();
        return Dns.GetHostAddresses(Dns.GetHostName())
            .FirstOrDefault(a => a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork && !IPAddress.IsLoopback(a))
            ?? IPAddress.Loopback;
    }

    /// <summary>A wrong option is refused before anything starts.</summary>
    private static void CheckOptions(string[] args)
    {
        for (var i = 0; i < args.Length; i++)
        {
            var arg = args[i];
            var name = arg.Split('=', 2)[0];
            // --Section:Key value sets any configuration key directly.
            if (name.StartsWith("--") && name.Contains(':')) { if (!arg.Contains('=')) i++; continue; }
            if (!Options.ContainsKey(name))
                throw new UsageException($"unknown option '{arg}'; options: {string.Join(", ", Options.Keys)}, or --Section:Key value");
            if (!arg.Contains('='))
            {
                if (i + 1 >= args.Length) throw new UsageException($"option '{name}' needs a value");
                i++;
            }
        }
    }
}
