using Orleans.Concurrency;

namespace LeakHunter.Crawler.Grains;

/// <summary>One crawl target: owns its scope, limits, frontier, seen sets and progress. Key: target id.</summary>
public interface ICrawlTargetGrain : IGrainWithStringKey
{
    /// <summary>Starts the crawl; calling it again for an existing target changes nothing.</summary>
    Task StartAsync(TargetSpec spec);

    /// <summary>Picks an unfinished crawl up again, e.g. after the node restarted.</summary>
    Task ResumeAsync();

    [AlwaysInterleave]
    Task<TargetProgress?> GetProgressAsync();

    /// <summary>
    /// A running job asks which of a page's images it should fetch: those not yet dealt with in this
    /// round nor claimed by another job, with the validators of the copy fetched in an earlier round.
    /// </summary>
    [AlwaysInterleave]
    Task<IReadOnlyList<ImageClaim>> ClaimImagesAsync(string jobId, IReadOnlyList<string> imageUrls);

    /// <summary>A running job asks which fetched contents (SHA-256) are new to this target and so must be matched.</summary>
    [AlwaysInterleave]
    Task<IReadOnlyList<string>> ClaimHashesAsync(string jobId, IReadOnlyList<string> sha256s);
}

/// <summary>The ids of a workspace's targets, newest last. Key: workspace name.</summary>
public interface ITargetCatalogGrain : IGrainWithStringKey
{
    Task AddAsync(string targetId);
    Task<IReadOnlyList<string>> ListAsync();
}
