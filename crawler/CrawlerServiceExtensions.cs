using LeakHunter.Crawler.Alerts;
using LeakHunter.Crawler.Fetching;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace LeakHunter.Crawler;

public static class CrawlerServiceExtensions
{
    /// <summary>Crawler options (section "Crawler"), the shared fetcher and the webhook HTTP client.</summary>
    public static IServiceCollection AddCrawler(this IServiceCollection services, IConfiguration configuration)
    {
        services.Configure<CrawlerOptions>(configuration.GetSection("Crawler"));
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton(sp => new WebFetcher(sp.GetRequiredService<IOptions<CrawlerOptions>>().Value));
        services.AddHttpClient(AlertOutboxGrain.HttpClientName, client => client.Timeout = TimeSpan.FromSeconds(15));
        return services;
    }
}
