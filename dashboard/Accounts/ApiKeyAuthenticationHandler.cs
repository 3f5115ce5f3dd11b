using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using LeakHunter.Index.Originals;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace LeakHunter.Dashboard.Accounts;

public sealed class ApiKeyAuthenticationOptions : AuthenticationSchemeOptions
{
    /// <summary>Auth:BootstrapApiKey: accepted for the default workspace, for automation without a browser.</summary>
    public string? BootstrapApiKey { get; set; }
}

/// <summary>Authenticates <c>Authorization: Bearer &lt;key&gt;</c> against the stored (hashed) workspace API keys.</summary>
public sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<ApiKeyAuthenticationOptions> options, ILoggerFactory logger, UrlEncoder encoder, IGrainFactory grains)
    : AuthenticationHandler<ApiKeyAuthenticationOptions>(options, logger, encoder)
{
    public const string SchemeName = "ApiKey";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var header = Request.Headers.Authorization.ToString();
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)) return AuthenticateResult.NoResult();
        var key = header["Bearer ".Length..].Trim();
        if (key.Length == 0) return AuthenticateResult.Fail("empty API key");

        string? workspace = null;
        var isOperator = false;
        if (Options.BootstrapApiKey is { Length: > 0 } bootstrap
            && CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(key)), SHA256.HashData(Encoding.UTF8.GetBytes(bootstrap))))
        {
            await grains.GetGrain<IAccountsGrain>(IAccountsGrain.Key).EnsureDefaultWorkspaceAsync();
            workspace = Workspace.Default;
            isOperator = true; // whoever configured the node: may see cluster-wide figures
        }
        else if (await grains.GetGrain<IAccountsGrain>(IAccountsGrain.Key).FindApiKeyAsync(ApiKeys.Sha256(key)) is { } record)
            workspace = record.WorkspaceId;
        if (workspace is null) return AuthenticateResult.Fail("unknown or revoked API key");

        var identity = new ClaimsIdentity(
        [
            new Claim(ClaimTypes.Name, "api-key"),
            new Claim(LeakHunterClaims.Workspace, workspace),
            new Claim(LeakHunterClaims.Admin, isOperator ? "true" : "false"),
        ], SchemeName);
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName));
    }
}
