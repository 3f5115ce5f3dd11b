using LeakHunter.Index.Copies;
using LeakHunter.Index.Embedding;
using LeakHunter.Index.Matching;
using LeakHunter.Index.Originals;
using LeakHunter.Index.Storage;
using LeakHunter.Index.Vectors;
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
            sp.GetRequiredService<IOptions<MatcherOptions>>().Value, Path.Combine(dataDirectory, "index"),
            CreateEmbeddingCandidates(configuration, dataDirectory)));
        services.AddHostedService<OriginalIndexSync>();
        return services;
    }

    /// <summary>
    /// The embedding model (section "Embedding"; on unless Embedding:Enabled is false) and the vector
    /// index it fills (section "Index": embedded files under {data}/vectors, or Qdrant).
    /// </summary>
    public static EmbeddingCandidates? CreateEmbeddingCandidates(IConfiguration configuration, string dataDirectory)
    {
        var embedderOptions = configuration.GetSection(EmbedderOptions.Section).Get<EmbedderOptions>() ?? new EmbedderOptions();
        if (!embedderOptions.Enabled)
            return null;
        var embedder = OnnxEmbedder.Shared(embedderOptions);
        var indexOptions = configuration.GetSection(VectorIndexOptions.Section).Get<VectorIndexOptions>() ?? new VectorIndexOptions();
        if (configuration[$"{VectorIndexOptions.Section}:{nameof(VectorIndexOptions.Dimension)}"] is null)
            indexOptions.Dimension = embedder.Dimension;
        else if (indexOptions.Dimension != embedder.Dimension)
            throw new InvalidOperationException($"Index:Dimension is {indexOptions.Dimension} but the embedding model gives {embedder.Dimension}");
        return new EmbeddingCandidates(embedder, VectorIndexFactory.Create(indexOptions, dataDirectory));
    }
}
