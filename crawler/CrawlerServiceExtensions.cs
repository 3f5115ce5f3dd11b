using LeakHunter.Crawler.Alerts;
using LeakHunter.Crawler.Fetching;
using LeakHunter.Crawler.Grains;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace LeakHunter.Crawler;

public static class CrawlerServiceExtensions
{
    /// <summary>Crawler options (section "Crawler"), the shared fetcher, the webhook HTTP client and this silo's work counters.</summary>
    public static IServiceCollection AddCrawler(this IServiceCollection services, IConfiguration configuration)
    {
        services.Configure<CrawlerOptions>(configuration.GetSection("Crawler"));
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton(sp => new WebFetcher(sp.GetRequiredService<IOptions<CrawlerOptions>>().Value));
        services.AddHttpClient(AlertOutboxGrain.HttpClientName, client => client.Timeout = TimeSpan.FromSeconds(15));
        // Which silo does how much: counted here, reported to the cluster's work grain.
        services.AddSingleton<SiloWorkCounters>();
        services.AddHostedService<SiloWorkReporter>();
        return services;
    }
}
