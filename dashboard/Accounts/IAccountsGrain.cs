namespace LeakHunter.Dashboard.Accounts;

/// <summary>Users, workspaces and API keys of the deployment. One grain, key <see cref="Key"/>.</summary>
public interface IAccountsGrain : IGrainWithStringKey
{
    public const string Key = "accounts";

    Task<bool> IsSetUpAsync();

    /// <summary>Creates the first user, an administrator, in the default workspace; refused once set up.</summary>
    Task<AccountOutcome> SetUpAdministratorAsync(string username, string passwordHash);

    /// <summary>Creates a user in an existing workspace (by id) or in a new one (by name).</summary>
    Task<AccountOutcome> CreateUserAsync(string username, string passwordHash, string? workspaceId, string? newWorkspaceName);

    Task<UserRecord?> FindUserAsync(string username);
    Task<UserRecord?> GetUserAsync(string userId);
    Task<IReadOnlyList<UserRecord>> ListUsersAsync();
    Task<IReadOnlyList<WorkspaceRecord>> ListWorkspacesAsync();
    Task EnsureDefaultWorkspaceAsync();

    Task<ApiKeyRecord> AddApiKeyAsync(string workspaceId, string name, string prefix, string sha256);
    Task<IReadOnlyList<ApiKeyRecord>> ListApiKeysAsync(string workspaceId);
    Task<bool> RevokeApiKeyAsync(string workspaceId, string keyId);
    Task<ApiKeyRecord?> FindApiKeyAsync(string sha256);
}
