namespace LeakHunter.Crawler.Alerts;

/// <summary>A workspace's matches. Key: workspace name.</summary>
public interface IMatchLedgerGrain : IGrainWithStringKey
{
    /// <summary>
    /// Records a match and queues its alert; returns false (and alerts nothing) when the same
    /// original was already found at the same image URL.
    /// </summary>
    Task<bool> RecordAsync(MatchCandidateRecord candidate);

    /// <summary>Matches newest first, optionally only one original's or one target's.</summary>
    Task<IReadOnlyList<MatchRecord>> ListAsync(string? originalId, string? targetId);

    Task<MatchRecord?> GetAsync(string matchId);

    /// <summary>Records the owner's verdict (<see cref="MatchReviews"/>; null clears it).</summary>
    Task<MatchRecord?> ReviewAsync(string matchId, string? review);
}
