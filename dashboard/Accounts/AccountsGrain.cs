using LeakHunter.Index.Grains;
using LeakHunter.Index.Originals;
using Orleans.Runtime;

namespace LeakHunter.Dashboard.Accounts;

public sealed class AccountsState
{
    public Dictionary<string, UserRecord> Users { get; set; } = new(StringComparer.Ordinal);
    public Dictionary<string, WorkspaceRecord> Workspaces { get; set; } = new(StringComparer.Ordinal);
    public List<ApiKeyRecord> ApiKeys { get; set; } = [];
}

/// <summary>
/// The account store. Password hashing happens in the web process (it is slow on purpose and
/// must not hold this grain); this grain only stores and looks up records.
/// </summary>
public sealed class AccountsGrain(
    [PersistentState("accounts", StorageNames.State)] IPersistentState<AccountsState> state) : Grain, IAccountsGrain
{
    public const int MaxUsernameLength = 64;

    public Task<bool> IsSetUpAsync() => Task.FromResult(state.State.Users.Count > 0);

    public async Task<AccountOutcome> SetUpAdministratorAsync(string username, string passwordHash)
    {
        if (state.State.Users.Count > 0) return new(null, "LeakHunter is already set up");
        if (CheckUsername(username) is { } problem) return new(null, problem);
        await EnsureDefaultWorkspaceAsync();
        var user = new UserRecord(NewId(), username.Trim(), passwordHash, Workspace.Default, IsAdmin: true, DateTimeOffset.UtcNow);
        state.State.Users[user.Id] = user;
        await state.WriteStateAsync();
        return new(user, null);
    }

    public async Task<AccountOutcome> CreateUserAsync(string username, string passwordHash, string? workspaceId, string? newWorkspaceName)
    {
        if (CheckUsername(username) is { } problem) return new(null, problem);
        string workspace;
        if (!string.IsNullOrWhiteSpace(newWorkspaceName))
        {
            var created = new WorkspaceRecord(NewId(), newWorkspaceName.Trim(), DateTimeOffset.UtcNow);
            state.State.Workspaces[created.Id] = created;
            await GrainFactory.GetGrain<IWorkspaceRegistryGrain>(WorkspaceRegistryGrain.Key).AddAsync(created.Id);
            workspace = created.Id;
        }
        else if (workspaceId is not null && state.State.Workspaces.ContainsKey(workspaceId)) workspace = workspaceId;
        else return new(null, "choose an existing workspace or name a new one");
        var user = new UserRecord(NewId(), username.Trim(), passwordHash, workspace, IsAdmin: false, DateTimeOffset.UtcNow);
        state.State.Users[user.Id] = user;
        await state.WriteStateAsync();
        return new(user, null);
    }

    public Task<UserRecord?> FindUserAsync(string username) => Task.FromResult(
        state.State.Users.Values.FirstOrDefault(u => string.Equals(u.Username, username.Trim(), StringComparison.OrdinalIgnoreCase)));

    public Task<UserRecord?> GetUserAsync(string userId) => Task.FromResult(state.State.Users.GetValueOrDefault(userId));

    public Task<IReadOnlyList<UserRecord>> ListUsersAsync() =>
        Task.FromResult<IReadOnlyList<UserRecord>>(state.State.Users.Values.OrderBy(u => u.CreatedAt).ToList());

    public Task<IReadOnlyList<WorkspaceRecord>> ListWorkspacesAsync() =>
        Task.FromResult<IReadOnlyList<WorkspaceRecord>>(state.State.Workspaces.Values.OrderBy(w => w.CreatedAt).ToList());

    public async Task EnsureDefaultWorkspaceAsync()
    {
        if (state.State.Workspaces.ContainsKey(Workspace.Default)) return;
        state.State.Workspaces[Workspace.Default] = new WorkspaceRecord(Workspace.Default, "Default", DateTimeOffset.UtcNow);
        await state.WriteStateAsync();
        await GrainFactory.GetGrain<IWorkspaceRegistryGrain>(WorkspaceRegistryGrain.Key).AddAsync(Workspace.Default);
    }

    public async Task<ApiKeyRecord> AddApiKeyAsync(string workspaceId, string name, string prefix, string sha256)
    {
        var key = new ApiKeyRecord(NewId(), workspaceId, name, prefix, sha256, DateTimeOffset.UtcNow, null);
        state.State.ApiKeys.Add(key);
        await state.WriteStateAsync();
        return key;
    }

    public Task<IReadOnlyList<ApiKeyRecord>> ListApiKeysAsync(string workspaceId) =>
        Task.FromResult<IReadOnlyList<ApiKeyRecord>>(state.State.ApiKeys.Where(k => k.WorkspaceId == workspaceId).ToList());

    public async Task<bool> RevokeApiKeyAsync(string workspaceId, string keyId)
    {
        var index = state.State.ApiKeys.FindIndex(k => k.Id == keyId && k.WorkspaceId == workspaceId && k.RevokedAt is null);
        if (index < 0) return false;
        state.State.ApiKeys[index] = state.State.ApiKeys[index] with { RevokedAt = DateTimeOffset.UtcNow };
        await state.WriteStateAsync();
        return true;
    }

    public Task<ApiKeyRecord?> FindApiKeyAsync(string sha256) =>
        Task.FromResult(state.State.ApiKeys.FirstOrDefault(k => k.Sha256 == sha256 && k.RevokedAt is null));

    private string? CheckUsername(string username)
    {
        var name = username.Trim();
        if (name.Length is 0 or > MaxUsernameLength) return $"a username is 1 to {MaxUsernameLength} characters";
        if (name.Any(char.IsControl)) return "a username cannot hold control characters";
        if (state.State.Users.Values.Any(u => string.Equals(u.Username, name, StringComparison.OrdinalIgnoreCase)))
            return $"the username '{name}' is taken";
        return null;
    }

    private static string NewId() => Guid.NewGuid().ToString("N")[..16];
}
