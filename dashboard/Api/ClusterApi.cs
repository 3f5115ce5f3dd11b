using LeakHunter.Crawler.Grains;
using LeakHunter.Dashboard.Accounts;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Orleans.Runtime;

namespace LeakHunter.Dashboard.Api;

/// <summary>One silo as <c>GET /api/cluster</c> shows it: its membership status and the work it reported.</summary>
public sealed record SiloView(
    string Silo, string Endpoint, string Status, string? Name, DateTimeOffset? StartedAt,
    long PagesFetched, long ImagesFetched, long ImagesMatched, int OriginalsKnown, double CpuSeconds, DateTimeOffset? ReportedAt);

/// <summary>How one target's work was shared between silos (endpoint to count).</summary>
public sealed record TargetShareView(string Id, string State, int Round, int PagesFetched, int ImagesFetched, string? RunsOn,
    IReadOnlyDictionary<string, int> PagesBySilo, IReadOnlyDictionary<string, int> ImagesBySilo);

/// <summary>The body of <c>GET /api/cluster</c>.</summary>
public sealed record ClusterView(
    int ActiveSilos, long PagesFetched, long ImagesFetched, long ImagesMatched,
    IReadOnlyList<SiloView> Silos, IReadOnlyList<TargetShareView> Targets);

public static class ClusterApi
{
    /// <summary>Silos whose membership entry is gone and that last reported this long ago are left out.</summary>
    private static readonly TimeSpan ForgetAfter = TimeSpan.FromHours(24);

    /// <summary>GET /api/cluster: every silo (active or dead), what each did, and each of the caller's targets' share per silo.</summary>
    public static IEndpointRouteBuilder MapClusterApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/cluster", async (IGrainFactory grains, HttpContext http) => Results.Ok(await GetViewAsync(grains, http.WorkspaceId())))
            .WithTags("Cluster")
            .WithSummary("Silos of the cluster with their status and work counters (pages, images fetched and matched), and each target's pages and images per silo.")
            .Produces<ClusterView>();
        return app;
    }

    public static async Task<ClusterView> GetViewAsync(IGrainFactory grains, string workspace)
    {
        var silos = await GetSilosAsync(grains);
        var targetIds = await grains.GetGrain<ITargetCatalogGrain>(workspace).ListAsync();
        var progress = await Task.WhenAll(targetIds.Select(id => grains.GetGrain<ICrawlTargetGrain>(id).GetProgressAsync()));
        var targets = progress.OfType<TargetProgress>().Reverse().Select(p => new TargetShareView(p.Id, p.State, p.Round, p.PagesFetched,
            p.ImagesFetched, p.State is TargetStates.Running or TargetStates.Queued ? p.Silo : null,
            p.PagesBySilo ?? new Dictionary<string, int>(), p.ImagesBySilo ?? new Dictionary<string, int>())).ToList();

        return new ClusterView(silos.Count(s => s.Status == "active"), silos.Sum(s => s.PagesFetched), silos.Sum(s => s.ImagesFetched),
            silos.Sum(s => s.ImagesMatched), silos, targets);
    }

    /// <summary>Every silo (active, dead, or gone but recently reporting) with the work it reported.</summary>
    public static async Task<IReadOnlyList<SiloView>> GetSilosAsync(IGrainFactory grains)
    {
        var hosts = await grains.GetGrain<IManagementGrain>(0).GetDetailedHosts(onlyActive: false);
        var reports = (await grains.GetGrain<IClusterWorkGrain>(0).ListAsync()).ToDictionary(r => r.Silo, StringComparer.Ordinal);
        var silos = new List<SiloView>();
        foreach (var host in hosts.OrderBy(h => h.SiloAddress.Endpoint.ToString(), StringComparer.Ordinal))
        {
            var key = host.SiloAddress.ToParsableString();
            reports.Remove(key, out var work);
            silos.Add(new SiloView(key, host.SiloAddress.Endpoint.ToString(), host.Status.ToString().ToLowerInvariant(), host.SiloName,
                host.StartTime, work?.PagesFetched ?? 0, work?.ImagesFetched ?? 0, work?.ImagesMatched ?? 0, work?.OriginalsKnown ?? 0,
                work?.CpuSeconds ?? 0, work?.ReportedAt));
        }
        // Silos that reported but whose membership entry has been cleaned up.
        foreach (var work in reports.Values.Where(r => DateTimeOffset.UtcNow - r.ReportedAt < ForgetAfter))
            silos.Add(new SiloView(work.Silo, work.Endpoint, "gone", null, work.StartedAt, work.PagesFetched, work.ImagesFetched,
                work.ImagesMatched, work.OriginalsKnown, work.CpuSeconds, work.ReportedAt));
        return silos;
    }
}
