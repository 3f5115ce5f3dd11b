using LeakHunter.Index.Grains;
using Orleans.Runtime;

namespace LeakHunter.Index.Originals;

/// <summary>
/// Everything an owner registers or finds belongs to a workspace; grains that hold per-owner
/// lists (originals, targets, webhooks, matches) are keyed by the workspace id, so one
/// workspace's grains never see another's data. The first workspace is "default".
/// </summary>
public static class Workspace
{
    public const string Default = "default";
}

/// <summary>Every workspace id, so silo-wide services (matcher sync, resuming crawls) can visit them all. Key: "all".</summary>
public interface IWorkspaceRegistryGrain : IGrainWithStringKey
{
    Task AddAsync(string workspaceId);
    Task<IReadOnlyList<string>> ListAsync();
}

public sealed class WorkspaceRegistryGrain(
    [PersistentState("workspaces", StorageNames.State)] IPersistentState<List<string>> state) : Grain, IWorkspaceRegistryGrain
{
    public const string Key = "all";

    public async Task AddAsync(string workspaceId)
    {
        if (state.State.Contains(workspaceId)) return;
        state.State.Add(workspaceId);
        await state.WriteStateAsync();
    }

    public Task<IReadOnlyList<string>> ListAsync() =>
        Task.FromResult<IReadOnlyList<string>>(state.State.Count == 0 ? [Workspace.Default] : state.State.ToList());
}
