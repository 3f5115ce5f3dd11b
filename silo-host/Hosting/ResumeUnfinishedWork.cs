using LeakHunter.Crawler.Alerts;
using LeakHunter.Crawler.Grains;
using LeakHunter.Index.Originals;

namespace LeakHunter.SiloHost.Hosting;

/// <summary>
/// After a restart, wakes the grains that have work left: unfinished crawls, the match ledger
/// (which re-queues alerts it had not handed over) and the alert outbox.
/// </summary>
public static class ResumeUnfinishedWork
{
    public static async Task RunAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        var grains = services.GetRequiredService<IGrainFactory>();
        foreach (var workspace in await grains.GetGrain<IWorkspaceRegistryGrain>(WorkspaceRegistryGrain.Key).ListAsync())
        {
            await grains.GetGrain<IMatchLedgerGrain>(workspace).ListAsync(null, null);
            await grains.GetGrain<IAlertOutboxGrain>(workspace).ResumeAsync();
            foreach (var targetId in await grains.GetGrain<ITargetCatalogGrain>(workspace).ListAsync())
                await grains.GetGrain<ICrawlTargetGrain>(targetId).ResumeAsync();
        }
    }
}
