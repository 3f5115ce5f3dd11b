using Orleans.Runtime;
using LeakHunter.Crawler.Fetching;
using LeakHunter.Index.Grains;
using LeakHunter.Index.Originals;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Hosting;

namespace LeakHunter.Crawler.Alerts;

public sealed class MatchLedgerState
{
    public List<MatchRecord> Matches { get; set; } = [];
    /// <summary>Matches recorded but not yet handed to the outbox (a crash between the two steps).</summary>
    public HashSet<string> AlertsNotQueued { get; set; } = new(StringComparer.Ordinal);
}

/// <summary>
/// Stores matches and makes each leak alert once: the same original at the same image URL is
/// one leak. A match is written first, then handed to the outbox and only then marked queued
/// (the outbox drops duplicates). A hand-over that fails (the outbox's silo just died) is owed:
/// a reminder, registered before the match is written, retries it from whichever silo is alive,
/// as do the next activation and the next record.
/// </summary>
public sealed class MatchLedgerGrain(
    [PersistentState("matches", StorageNames.State)] IPersistentState<MatchLedgerState> state,
    IOptions<CrawlerOptions> options,
    IOptions<ReminderOptions> reminderOptions,
    ILogger<MatchLedgerGrain> logger)
    : Grain, IMatchLedgerGrain, IRemindable
{
    private OwedWorkReminder? owed;
    private OwedWorkReminder Owed => owed ??= new OwedWorkReminder(this, "hand-over", options.Value, reminderOptions.Value);

    public override Task OnActivateAsync(CancellationToken cancellationToken) => QueueOwedAlertsAsync();

    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        if (state.State.AlertsNotQueued.Count > 0) await QueueOwedAlertsAsync();
        else await Owed.DropAsync(evenIfNotRegisteredHere: true);
    }

    public async Task<bool> RecordAsync(MatchCandidateRecord candidate)
    {
        var originalId = candidate.Match.OriginalId;
        if (state.State.Matches.Any(m => m.OriginalId == originalId && m.ImageUrl == candidate.ImageUrl))
        {
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
        await Owed.KeepAsync();
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

    /// <summary>
    /// Hands every recorded match not yet queued to the outbox, marking each once it is. A failure is logged, not
    /// thrown: the match is recorded and the reminder will hand it over (the caller's job needs no repeat).
    /// </summary>
    private async Task QueueOwedAlertsAsync()
    {
        if (state.State.AlertsNotQueued.Count == 0) return;
        var outbox = GrainFactory.GetGrain<IAlertOutboxGrain>(this.GetPrimaryKeyString());
        int before = state.State.AlertsNotQueued.Count;
        try
        {
            foreach (var matchId in state.State.AlertsNotQueued.ToList())
            {
                if (state.State.Matches.FirstOrDefault(m => m.Id == matchId) is { } match)
                    await outbox.EnqueueAsync(match);
                state.State.AlertsNotQueued.Remove(matchId);
            }
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            await Owed.KeepAsync();
            logger.LogWarning(e, "Handing {Count} alert(s) to the outbox failed; the reminder retries", state.State.AlertsNotQueued.Count);
        }
        if (state.State.AlertsNotQueued.Count != before)
            await state.WriteStateAsync();
        if (state.State.AlertsNotQueued.Count == 0)
            await Owed.DropAsync();
    }
}
