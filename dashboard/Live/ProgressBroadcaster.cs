using System.Text.Json;
using LeakHunter.Crawler.Alerts;
using LeakHunter.Crawler.Grains;
using LeakHunter.Dashboard.Api;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace LeakHunter.Dashboard.Live;

/// <summary>What an open dashboard shows live: its targets' progress and its latest matches.</summary>
public sealed record ProgressSnapshot(IReadOnlyList<TargetView> Targets, IReadOnlyList<MatchRecord> Matches);

/// <summary>
/// Once a second, for each workspace with a dashboard open, reads its targets and matches and
/// pushes them when they changed. Polling grains from here keeps the grains free of any
/// knowledge of web clients, and costs nothing while nobody watches.
/// </summary>
public sealed class ProgressBroadcaster(IGrainFactory grains, ProgressSubscriptions subscriptions,
    IHubContext<ProgressHub> hub, ILogger<ProgressBroadcaster> logger) : BackgroundService
{
    public const int LatestMatches = 50;
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly Dictionary<string, string> lastSent = new(StringComparer.Ordinal);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            foreach (var workspace in subscriptions.Workspaces)
            {
                try
                {
                    var snapshot = await SnapshotAsync(grains, workspace);
                    var text = JsonSerializer.Serialize(snapshot, Json);
                    if (lastSent.TryGetValue(workspace, out var previous) && previous == text) continue;
                    lastSent[workspace] = text;
                    await hub.Clients.Group(workspace).SendAsync(ProgressHub.Message, snapshot, stoppingToken);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    logger.LogWarning(e, "Could not push progress of workspace {Workspace}", workspace);
                }
            }
        }
    }

    public static async Task<ProgressSnapshot> SnapshotAsync(IGrainFactory grains, string workspace)
    {
        var ids = await grains.GetGrain<ITargetCatalogGrain>(workspace).ListAsync();
        var progress = await Task.WhenAll(ids.Select(id => grains.GetGrain<ICrawlTargetGrain>(id).GetProgressAsync()));
        var matches = await grains.GetGrain<IMatchLedgerGrain>(workspace).ListAsync(null, null);
        return new ProgressSnapshot(progress.OfType<TargetProgress>().Select(TargetView.From).Reverse().ToList(),
            matches.Take(LatestMatches).ToList());
    }
}
