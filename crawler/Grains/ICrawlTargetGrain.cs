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
}

/// <summary>The ids of a workspace's targets, newest last. Key: workspace name.</summary>
public interface ITargetCatalogGrain : IGrainWithStringKey
{
    Task AddAsync(string targetId);
    Task<IReadOnlyList<string>> ListAsync();
}
