using System.Collections.Concurrent;
using LeakHunter.Dashboard.Accounts;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.SignalR;

namespace LeakHunter.Dashboard.Live;

/// <summary>
/// Pushes a workspace's crawl progress and matches to its open dashboards. A connection joins
/// the group of its user's workspace only, so nobody hears another workspace's news.
/// </summary>
[Authorize]
public sealed class ProgressHub(ProgressSubscriptions subscriptions) : Hub
{
    public const string Path = "/hubs/progress";
    public const string Message = "progress";

    public override async Task OnConnectedAsync()
    {
        var workspace = Context.GetHttpContext()!.WorkspaceId();
        await Groups.AddToGroupAsync(Context.ConnectionId, workspace);
        subscriptions.Add(Context.ConnectionId, workspace);
        await base.OnConnectedAsync();
    }

    public override Task OnDisconnectedAsync(Exception? exception)
    {
        subscriptions.Remove(Context.ConnectionId);
        return base.OnDisconnectedAsync(exception);
    }
}

/// <summary>Which workspaces have a dashboard open right now.</summary>
public sealed class ProgressSubscriptions
{
    private readonly ConcurrentDictionary<string, string> workspaceByConnection = new();

    public void Add(string connectionId, string workspace) => workspaceByConnection[connectionId] = workspace;
    public void Remove(string connectionId) => workspaceByConnection.TryRemove(connectionId, out _);
    public IReadOnlyCollection<string> Workspaces => workspaceByConnection.Values.Distinct().ToList();
}
