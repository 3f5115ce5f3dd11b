using LeakHunter.SiloHost.Hosting;

namespace LeakHunter.SiloHost.Commands;

/// <summary>
/// Runs a LeakHunter process until Ctrl-C (or SIGTERM), then stops it cleanly:
/// <c>leakhunter</c> a standalone node, <c>leakhunter silo --redis H:P</c> a cluster silo,
/// <c>leakhunter dashboard --redis H:P</c> the dashboard of a cluster.
/// </summary>
public static class NodeCommand
{
    public static Task<int> RunAsync(string[] args) => RunAsync(args, NodeRole.Standalone);
    public static Task<int> RunSiloAsync(string[] args) => RunAsync(args, NodeRole.Silo);
    public static Task<int> RunDashboardAsync(string[] args) => RunAsync(args, NodeRole.Dashboard);

    private static async Task<int> RunAsync(string[] args, NodeRole role)
    {
        await using var app = NodeHost.Build(args, role);
        await app.RunAsync();
        return 0;
    }
}
