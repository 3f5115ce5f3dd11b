using LeakHunter.Crawler;
using LeakHunter.Dashboard;
using LeakHunter.Index;
using LeakHunter.Index.Grains;
using LeakHunter.SiloHost.Commands;
using Orleans.Configuration;
using Orleans.Runtime.Hosting;

namespace LeakHunter.SiloHost.Hosting;

/// <summary>
/// Builds a standalone LeakHunter node: one Orleans silo with localhost clustering, state in
/// files under the data directory, the embedded index, and the dashboard and API in the same
/// process.
/// </summary>
public static class NodeHost
{
    public const string DefaultUrl = "http://127.0.0.1:5080";

    /// <summary>Command-line options and the configuration keys they set.</summary>
    public static readonly IReadOnlyDictionary<string, string> Options = new Dictionary<string, string>
    {
        ["--data"] = "DataDirectory",
        ["--urls"] = "urls",
        ["--silo-port"] = "Orleans:SiloPort",
        ["--gateway-port"] = "Orleans:GatewayPort",
    };

    public static WebApplication Build(string[] args)
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
        if (string.IsNullOrEmpty(builder.Configuration["urls"])) builder.WebHost.UseUrls(DefaultUrl);

        var dataDirectory = Path.GetFullPath(builder.Configuration["DataDirectory"] ?? "data", Environment.CurrentDirectory);
        Directory.CreateDirectory(dataDirectory);

        builder.Services.AddIndex(builder.Configuration, dataDirectory);
        builder.Services.AddCrawler(builder.Configuration);
        builder.Services.AddDashboard();
        builder.UseOrleans(silo =>
        {
            silo.UseLocalhostClustering(
                siloPort: builder.Configuration.GetValue("Orleans:SiloPort", EndpointOptions.DEFAULT_SILO_PORT),
                gatewayPort: builder.Configuration.GetValue("Orleans:GatewayPort", EndpointOptions.DEFAULT_GATEWAY_PORT));
            silo.Services.AddGrainStorage(StorageNames.State, (_, _) => new FileGrainStorage(Path.Combine(dataDirectory, "grains")));
            // A site grain may hold a request while it waits for its turn: allow for politeness delays.
            silo.Configure<SiloMessagingOptions>(o => o.ResponseTimeout = TimeSpan.FromMinutes(5));
            silo.AddStartupTask(ResumeUnfinishedWork.RunAsync);
        });

        var app = builder.Build();
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.MapDashboard();
        app.Logger.LogInformation("LeakHunter data directory: {DataDirectory}", dataDirectory);
        return app;
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
