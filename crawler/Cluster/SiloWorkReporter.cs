using System.Diagnostics;
using LeakHunter.Index.Matching;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Runtime;

namespace LeakHunter.Crawler.Grains;

/// <summary>Every two seconds, tells the cluster's <see cref="IClusterWorkGrain"/> what this silo has done.</summary>
public sealed class SiloWorkReporter(IServiceProvider services, SiloWorkCounters counters, IHostApplicationLifetime lifetime,
    TimeProvider clock, ILogger<SiloWorkReporter> logger) : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(2);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Grain calls need the silo running: wait until the host has started.
        var started = new TaskCompletionSource();
        await using (lifetime.ApplicationStarted.Register(() => started.TrySetResult()))
        await using (stoppingToken.Register(() => started.TrySetCanceled()))
        {
            try { await started.Task; }
            catch (TaskCanceledException) { return; }
        }
        var silo = services.GetRequiredService<ILocalSiloDetails>().SiloAddress;
        var grains = services.GetRequiredService<IGrainFactory>();
        var matcher = services.GetService<CopyMatcher>();
        var startedAt = clock.GetUtcNow();
        using var timer = new PeriodicTimer(Interval, clock);
        do
        {
            try
            {
                var cpu = Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds;
                await grains.GetGrain<IClusterWorkGrain>(0).ReportAsync(new SiloWork(silo.ToParsableString(), silo.Endpoint.ToString(),
                    counters.Pages, counters.Images, counters.Matched, matcher?.OriginalIds.Count ?? 0, startedAt, clock.GetUtcNow(), Math.Round(cpu, 2)))
                    .WaitAsync(TimeSpan.FromSeconds(10), stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                logger.LogDebug(e, "Reporting this silo's work failed; trying again");
            }
        } while (await timer.WaitForNextTickAsync(stoppingToken));
    }
}
