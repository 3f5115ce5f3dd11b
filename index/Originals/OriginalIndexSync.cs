using LeakHunter.Index.Matching;
using LeakHunter.Index.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace LeakHunter.Index.Originals;

/// <summary>
/// Keeps this silo's matcher in step with the originals catalog. The catalog grain fingerprints
/// a new original into the matcher of the silo it runs on; in a cluster every other silo learns
/// of it here, from the catalog and the shared blob store (and a new silo fills its matcher the
/// same way). Originals deleted from the catalog are dropped after a grace period, so one that
/// is being registered right now (in the matcher, not yet in the catalog) is left alone.
/// </summary>
public sealed class OriginalIndexSync(IGrainFactory grains, CopyMatcher matcher, IBlobStore blobs, TimeProvider clock,
    IHostApplicationLifetime lifetime, ILogger<OriginalIndexSync> logger) : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan RemovalGrace = TimeSpan.FromMinutes(1);
    private readonly Dictionary<string, DateTimeOffset> extraSince = new(StringComparer.Ordinal);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Hosted services start in order and this one starts before the silo: until the silo has joined
        // the cluster no grain can be placed, so the first sync waits for the host to have started.
        if (!await HostStartedAsync(stoppingToken)) return;
        using var timer = new PeriodicTimer(Interval, clock);
        do
        {
            try
            {
                await SyncOnceAsync(stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogWarning(e, "Syncing the matcher with the originals catalog failed; retrying");
            }
        } while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    private async Task<bool> HostStartedAsync(CancellationToken stoppingToken)
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var onStarted = lifetime.ApplicationStarted.Register(() => started.TrySetResult());
        using var onStopping = stoppingToken.Register(() => started.TrySetCanceled(stoppingToken));
        try
        {
            await started.Task;
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    public async Task SyncOnceAsync(CancellationToken cancellationToken)
    {
        var catalog = new List<OriginalInfo>();
        foreach (var workspace in await grains.GetGrain<IWorkspaceRegistryGrain>(WorkspaceRegistryGrain.Key).ListAsync())
            catalog.AddRange(await grains.GetGrain<IOriginalCatalogGrain>(workspace).ListAsync());
        var known = matcher.OriginalIds.ToHashSet(StringComparer.Ordinal);
        // fingerprinted before the embedding model existed (or under another): registered again
        var current = known.Except(matcher.IdsWithoutEmbeddings).ToHashSet(StringComparer.Ordinal);
        foreach (var original in catalog.Where(o => !current.Contains(o.Id)))
        {
            var bytes = await blobs.GetAsync(OriginalCatalogGrain.BlobKey(original.Id), cancellationToken);
            if (bytes is null) continue;
            await Task.Run(() => matcher.Register(original.Id, bytes), cancellationToken);
            logger.LogInformation("Matcher learned original {Id}", original.Id);
        }
        var listed = catalog.Select(o => o.Id).ToHashSet(StringComparer.Ordinal);
        var now = clock.GetUtcNow();
        foreach (var id in known.Where(id => !listed.Contains(id)))
        {
            if (!extraSince.TryGetValue(id, out var since)) extraSince[id] = now;
            else if (now - since > RemovalGrace)
            {
                matcher.Remove(id);
                extraSince.Remove(id);
            }
        }
        foreach (var id in extraSince.Keys.Where(listed.Contains).ToList()) extraSince.Remove(id);
    }
}
