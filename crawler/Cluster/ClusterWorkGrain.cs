using LeakHunter.Index.Grains;
using Orleans.Runtime;

namespace LeakHunter.Crawler.Grains;

/// <summary>One silo's work as it last reported it.</summary>
[GenerateSerializer, Immutable]
public sealed record SiloWork(
    [property: Id(0)] string Silo,
    [property: Id(1)] string Endpoint,
    [property: Id(2)] long PagesFetched,
    [property: Id(3)] long ImagesFetched,
    [property: Id(4)] long ImagesMatched,
    [property: Id(5)] int OriginalsKnown,
    [property: Id(6)] DateTimeOffset StartedAt,
    [property: Id(7)] DateTimeOffset ReportedAt,
    [property: Id(8)] double CpuSeconds);

/// <summary>The work counters every silo reports every few seconds. Key: 0 (one per cluster).</summary>
public interface IClusterWorkGrain : IGrainWithIntegerKey
{
    Task ReportAsync(SiloWork work);
    Task<IReadOnlyList<SiloWork>> ListAsync();
}

public sealed class ClusterWorkState
{
    /// <summary>Keyed by silo address (endpoint and generation), so a restarted silo is a new row.</summary>
    public Dictionary<string, SiloWork> Silos { get; set; } = new(StringComparer.Ordinal);
}

/// <summary>
/// Keeps the silos' latest reports, in grain storage so the figures of a silo that died stay
/// visible (each silo reports every two seconds, so this is a handful of small writes a second).
/// </summary>
public sealed class ClusterWorkGrain(
    [PersistentState("cluster-work", StorageNames.State)] IPersistentState<ClusterWorkState> state) : Grain, IClusterWorkGrain
{
    private const int MaxSilos = 200;

    public async Task ReportAsync(SiloWork work)
    {
        state.State.Silos[work.Silo] = work;
        if (state.State.Silos.Count > MaxSilos)
            foreach (var stale in state.State.Silos.Values.OrderBy(s => s.ReportedAt).Take(state.State.Silos.Count - MaxSilos).ToList())
                state.State.Silos.Remove(stale.Silo);
        await state.WriteStateAsync();
    }

    public Task<IReadOnlyList<SiloWork>> ListAsync() =>
        Task.FromResult<IReadOnlyList<SiloWork>>(state.State.Silos.Values.OrderBy(s => s.Endpoint, StringComparer.Ordinal).ThenBy(s => s.StartedAt).ToList());
}
