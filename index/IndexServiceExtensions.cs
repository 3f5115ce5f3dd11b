using LeakHunter.Index.Matching;
using LeakHunter.Index.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace LeakHunter.Index;

public static class IndexServiceExtensions
{
    /// <summary>
    /// The matcher (section "Matching"), persisted in {data}/index, and the blob store in {data}/blobs.
    /// </summary>
    public static IServiceCollection AddIndex(this IServiceCollection services, IConfiguration configuration, string dataDirectory)
    {
        services.Configure<MatcherOptions>(configuration.GetSection("Matching"));
        services.AddSingleton(sp => new CopyMatcher(
            sp.GetRequiredService<IOptions<MatcherOptions>>().Value, Path.Combine(dataDirectory, "index")));
        services.AddSingleton<IBlobStore>(new FileBlobStore(Path.Combine(dataDirectory, "blobs")));
        return services;
    }
}
