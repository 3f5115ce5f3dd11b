using Orleans.Runtime;
using LeakHunter.Index.Grains;
using LeakHunter.Index.Originals;

namespace LeakHunter.Crawler.Alerts;

public sealed class MatchLedgerState
{
    public List<MatchRecord> Matches { get; set; } = [];
    /// <summary>Matches recorded but not yet handed to the outbox (a crash between the two steps).</summary>
    public HashSet<string> AlertsNotQueued { get; set; } = new(StringComparer.Ordinal);
}

/// <summary>
/// Stores matches and makes each leak alert once: the same original at the same image URL is
/// one leak. A match is written first, then handed to the outbox and only then marked queued,
/// so a crash or a failed call in between re-queues it on the next activation or the next record
/// (the outbox drops duplicates).
/// </summary>
public sealed class MatchLedgerGrain(
    [PersistentState("matches", StorageNames.State)] IPersistentState<MatchLedgerState> state)
    : Grain, IMatchLedgerGrain
{
    public override Task OnActivateAsync(CancellationToken cancellationToken) => QueueOwedAlertsAsync();

    public async Task<bool> RecordAsync(MatchCandidateRecord candidate)
    {
        var originalId = candidate.Match.OriginalId;
        if (state.State.Matches.Any(m => m.OriginalId == originalId && m.ImageUrl == candidate.ImageUrl))
        {
            // A repeated job: its first try may have failed handing the alert to the outbox (the outbox's silo died).
            await QueueOwedAlertsAsync();
            return false;
        }
        var original = await GrainFactory.GetGrain<IOriginalCatalogGrain>(this.GetPrimaryKeyString()).GetAsync(originalId);
        var record = new MatchRecord(
            Id: Guid.NewGuid().ToString("N")[..16],
            OriginalId: originalId,
            OriginalTitle: original?.Title ?? originalId,
            TargetId: candidate.TargetId,
            PageUrl: candidate.PageUrl,
            ImageUrl: candidate.ImageUrl,
            Score: Math.Round(candidate.Match.Score, 4),
            FoundAt: candidate.FoundAt,
            Transform: candidate.Match.Transform,
            ImageSha256: candidate.Match.QuerySha256,
            Attribution: candidate.Attribution,
            PageSha256: candidate.PageSha256);
        state.State.Matches.Add(record);
        state.State.AlertsNotQueued.Add(record.Id);
        await state.WriteStateAsync();
        await QueueOwedAlertsAsync();
        return true;
    }

    public Task<IReadOnlyList<MatchRecord>> ListAsync(string? originalId, string? targetId) =>
        Task.FromResult<IReadOnlyList<MatchRecord>>(state.State.Matches
            .Where(m => originalId is null || m.OriginalId == originalId)
            .Where(m => targetId is null || m.TargetId == targetId)
            .OrderByDescending(m => m.FoundAt)
            .ToList());

    public Task<MatchRecord?> GetAsync(string matchId) =>
        Task.FromResult(state.State.Matches.FirstOrDefault(m => m.Id == matchId));

    public async Task<MatchRecord?> ReviewAsync(string matchId, string? review)
    {
        if (!MatchReviews.IsValid(review)) throw new ArgumentException($"unknown review '{review}'", nameof(review));
        var index = state.State.Matches.FindIndex(m => m.Id == matchId);
        if (index < 0) return null;
        var reviewed = state.State.Matches[index] with { Review = review, ReviewedAt = review is null ? null : DateTimeOffset.UtcNow };
        state.State.Matches[index] = reviewed;
        await state.WriteStateAsync();
        return reviewed;
    }

    /// <summary>Hands every recorded match not yet queued to the outbox, marking each once it is.</summary>
    private async Task QueueOwedAlertsAsync()
    {
        if (state.State.AlertsNotQueued.Count == 0) return;
        var outbox = GrainFactory.GetGrain<IAlertOutboxGrain>(this.GetPrimaryKeyString());
        try
        {
            foreach (var matchId in state.State.AlertsNotQueued.ToList())
            {
                if (state.State.Matches.FirstOrDefault(m => m.Id == matchId) is { } match)
                    await outbox.EnqueueAsync(match);
                state.State.AlertsNotQueued.Remove(matchId);
            }
        }
        finally
        {
            await state.WriteStateAsync();
        }
    }
}
