using System.Security.Claims;
using Microsoft.AspNetCore.Http;

namespace LeakHunter.Dashboard.Accounts;

/// <summary>The claims a signed-in user or an API key carries.</summary>
public static class LeakHunterClaims
{
    public const string Workspace = "leakhunter:workspace";
    public const string UserId = "leakhunter:user";
    public const string Admin = "leakhunter:admin";

    /// <summary>The workspace every request works in: its owner's, never one named by the request.</summary>
    public static string WorkspaceId(this HttpContext context) =>
        context.User.FindFirstValue(Workspace) ?? throw new InvalidOperationException("request is not authenticated");

    public static bool IsAdmin(this ClaimsPrincipal user) => user.HasClaim(Admin, "true");

    public static ClaimsPrincipal ForUser(UserRecord user, string scheme) => new(new ClaimsIdentity(
    [
        new Claim(ClaimTypes.Name, user.Username),
        new Claim(UserId, user.Id),
        new Claim(Workspace, user.WorkspaceId),
        new Claim(Admin, user.IsAdmin ? "true" : "false"),
    ], scheme));
}
