using LeakHunter.Index.Copies;
using LeakHunter.Index.Matching;
using LeakHunter.Index.Originals;
using LeakHunter.Index.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace LeakHunter.Index;

public static class IndexServiceExtensions
{
    /// <summary>
    /// The matcher (section "Matching"), persisted in {data}/index and kept in step with the
    /// originals catalog. The blob store is registered by the host (files or Redis).
    /// </summary>
    public static IServiceCollection AddIndex(this IServiceCollection services, IConfiguration configuration, string dataDirectory)
    {
        // Every silo needs the key to make copies and attribute leaks; only a standalone node may invent its own.
        var standalone = string.IsNullOrEmpty(configuration["Cluster:Redis"]);
        services.AddSingleton(WatermarkKeyProvider.FromConfiguration(configuration, dataDirectory, createIfMissing: standalone));
        services.Configure<MatcherOptions>(configuration.GetSection("Matching"));
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton(sp => new CopyMatcher(
            sp.GetRequiredService<IOptions<MatcherOptions>>().Value, Path.Combine(dataDirectory, "index")));
        services.AddHostedService<OriginalIndexSync>();
        return services;
    }
}
