using Orleans.Runtime;

namespace LeakHunter.Dashboard.Operations;

/// <summary>One active silo's load, from Orleans' runtime statistics.</summary>
public sealed record SiloLoad(string Silo, int Activations, float? CpuPercent, long? MemoryBytes, long ReceivedMessages, long SentMessages);

public static class SiloLoads
{
    /// <summary>The active silos' load, keyed like <c>/api/cluster</c>'s silos (works from a silo and from a client).</summary>
    public static async Task<IReadOnlyDictionary<string, SiloLoad>> ReadAsync(IGrainFactory grains)
    {
        var management = grains.GetGrain<IManagementGrain>(0);
        var hosts = await management.GetHosts(onlyActive: true);
        var addresses = hosts.Keys.ToArray();
        var statistics = addresses.Length == 0 ? [] : await management.GetRuntimeStatistics(addresses);
        return addresses.Zip(statistics, (address, s) => new SiloLoad(address.ToParsableString(), s.ActivationCount,
                s.EnvironmentStatistics.FilteredCpuUsagePercentage, s.EnvironmentStatistics.FilteredMemoryUsageBytes,
                s.ReceivedMessages, s.SentMessages))
            .ToDictionary(l => l.Silo, StringComparer.Ordinal);
    }
}
