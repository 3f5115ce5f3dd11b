using Orleans.Runtime;

namespace LeakHunter.Dashboard.Operations;

/// <summary>One silo as the cluster page and /metrics show it.</summary>
public sealed record SiloView(
    string Address, string Name, string Host, string Status, DateTime StartedAt,
    int Activations, float? CpuPercent, long? MemoryBytes, long ReceivedMessages, long SentMessages, long Clients);

public static class ClusterView
{
    /// <summary>The active silos with their load, from Orleans' management grain (works from a silo and from a client).</summary>
    public static async Task<IReadOnlyList<SiloView>> SilosAsync(IGrainFactory grains)
    {
        var management = grains.GetGrain<IManagementGrain>(0);
        var hosts = await management.GetDetailedHosts(onlyActive: true);
        var statistics = hosts.Length == 0 ? [] : await management.GetRuntimeStatistics(hosts.Select(h => h.SiloAddress).ToArray());
        return hosts.Select((h, i) =>
        {
            var s = i < statistics.Length ? statistics[i] : null;
            return new SiloView(h.SiloAddress.ToParsableString(), h.SiloName, h.HostName, h.Status.ToString(), h.StartTime,
                s?.ActivationCount ?? 0, s?.EnvironmentStatistics.FilteredCpuUsagePercentage,
                s?.EnvironmentStatistics.FilteredMemoryUsageBytes, s?.ReceivedMessages ?? 0, s?.SentMessages ?? 0, s?.ClientCount ?? 0);
        }).OrderBy(s => s.Address, StringComparer.Ordinal).ToList();
    }
}
