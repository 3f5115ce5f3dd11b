using LeakHunter.Dashboard.Accounts;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using static LeakHunter.Dashboard.Pages.Html;

namespace LeakHunter.Dashboard.Pages;

/// <summary>First-run setup, sign in and out, and the administrator's user and workspace page.</summary>
public static class AccountPages
{
    public static IEndpointRouteBuilder MapAccountPages(this IEndpointRouteBuilder app)
    {
        app.MapGet("/setup", async (HttpContext context, IGrainFactory grains) =>
            await Accounts(grains).IsSetUpAsync() ? Results.Redirect("/login") : SetupPage(context, null)).AllowAnonymous();

        app.MapPost("/setup", async (HttpContext context, IGrainFactory grains) =>
        {
            if (await Accounts(grains).IsSetUpAsync()) return Results.Redirect("/login");
            var form = await context.Request.ReadFormAsync();
            var username = form["username"].ToString();
            var password = form["password"].ToString();
            if (PasswordHasher.CheckStrength(password) is { } weak) return SetupPage(context, weak);
            var hash = await Task.Run(() => PasswordHasher.Hash(password));
            var outcome = await Accounts(grains).SetUpAdministratorAsync(username, hash);
            if (outcome.User is not { } user) return SetupPage(context, outcome.Error);
            await SignInAsync(context, user);
            return Results.Redirect("/");
        }).AllowAnonymous().RequireRateLimiting(AuthExtensions.LoginRateLimit);

        app.MapGet("/login", async (HttpContext context, IGrainFactory grains) =>
            !await Accounts(grains).IsSetUpAsync() ? Results.Redirect("/setup") : LoginPage(context, null)).AllowAnonymous();

        app.MapPost("/login", async (HttpContext context, IGrainFactory grains) =>
        {
            var form = await context.Request.ReadFormAsync();
            var user = await Accounts(grains).FindUserAsync(form["username"].ToString());
            var password = form["password"].ToString();
            // Verify against a decoy when the user is unknown: the answer takes as long either way.
            var valid = await Task.Run(() => PasswordHasher.Verify(password, user?.PasswordHash ?? PasswordHasher.Decoy));
            if (user is null || !valid) return LoginPage(context, "wrong username or password", StatusCodes.Status401Unauthorized);
            await SignInAsync(context, user);
            var returnUrl = context.Request.Query["ReturnUrl"].ToString();
            return Results.Redirect(returnUrl.StartsWith('/') && !returnUrl.StartsWith("//") ? returnUrl : "/");
        }).AllowAnonymous().RequireRateLimiting(AuthExtensions.LoginRateLimit);

        app.MapPost("/logout", async (HttpContext context) =>
        {
            await context.SignOutAsync(CookieAuthenticationDefaults.AuthenticationScheme);
            return Results.Redirect("/login");
        });

        app.MapGet("/admin", async (HttpContext context, IGrainFactory grains) => await AdminPage(context, grains, null))
            .RequireAuthorization(AuthExtensions.AdminPolicy);

        app.MapPost("/admin/users", async (HttpContext context, IGrainFactory grains) =>
        {
            var form = await context.Request.ReadFormAsync();
            var password = form["password"].ToString();
            if (PasswordHasher.CheckStrength(password) is { } weak) return await AdminPage(context, grains, weak);
            var hash = await Task.Run(() => PasswordHasher.Hash(password));
            var workspace = form["workspace"].ToString();
            var outcome = await Accounts(grains).CreateUserAsync(form["username"].ToString(), hash,
                workspace == "new" ? null : workspace, workspace == "new" ? form["newWorkspace"].ToString() : null);
            return await AdminPage(context, grains, outcome.Error, outcome.User is { } u ? $"created {u.Username}" : null);
        }).RequireAuthorization(AuthExtensions.AdminPolicy);
        return app;
    }

    private static IAccountsGrain Accounts(IGrainFactory grains) => grains.GetGrain<IAccountsGrain>(IAccountsGrain.Key);

    private static Task SignInAsync(HttpContext context, UserRecord user) =>
        context.SignInAsync(CookieAuthenticationDefaults.AuthenticationScheme,
            LeakHunterClaims.ForUser(user, CookieAuthenticationDefaults.AuthenticationScheme));

    private static IResult SetupPage(HttpContext context, string? error) => Page(context, "Set up", $"""
        <section style="max-width:420px">
          <h1>Welcome to LeakHunter</h1>
          <p>Create the administrator account. It owns the default workspace and can invite other users.</p>
          <form method="post" action="/setup" id="setup-form">
            {TokenField(context)}
            <p><label>Username<br><input type="text" name="username" id="username" required autocomplete="username"></label></p>
            <p><label>Password (10+ characters)<br><input type="password" name="password" id="password" required autocomplete="new-password"></label></p>
            <p class="error">{E(error)}</p>
            <button type="submit">Create administrator</button>
          </form>
        </section>
        """, status: error is null ? 200 : 400);

    private static IResult LoginPage(HttpContext context, string? error, int status = 200) => Page(context, "Sign in", $"""
        <section style="max-width:420px">
          <h1>Sign in</h1>
          <form method="post" action="/login{E(context.Request.QueryString.Value)}" id="login-form">
            {TokenField(context)}
            <p><label>Username<br><input type="text" name="username" id="username" required autocomplete="username"></label></p>
            <p><label>Password<br><input type="password" name="password" id="password" required autocomplete="current-password"></label></p>
            <p class="error">{E(error)}</p>
            <button type="submit">Sign in</button>
          </form>
        </section>
        """, status: status);

    private static async Task<IResult> AdminPage(HttpContext context, IGrainFactory grains, string? error, string? done = null)
    {
        var users = await Accounts(grains).ListUsersAsync();
        var workspaces = await Accounts(grains).ListWorkspacesAsync();
        var names = workspaces.ToDictionary(w => w.Id, w => w.Name);
        var rows = string.Concat(users.Select(u =>
            $"<tr><td>{E(u.Username)}</td><td>{E(names.GetValueOrDefault(u.WorkspaceId, u.WorkspaceId))}</td><td>{(u.IsAdmin ? "administrator" : "")}</td></tr>"));
        var options = string.Concat(workspaces.Select(w => $"<option value=\"{E(w.Id)}\">{E(w.Name)}</option>"));
        return Page(context, "Users", $"""
            <section>
              <h1>Users and workspaces</h1>
              <table><thead><tr><th>User</th><th>Workspace</th><th></th></tr></thead><tbody id="user-list">{rows}</tbody></table>
            </section>
            <section>
              <h2>Invite a user</h2>
              <form method="post" action="/admin/users" id="invite-form">
                {TokenField(context)}
                <input type="text" name="username" id="invite-username" placeholder="Username" required>
                <input type="password" name="password" id="invite-password" placeholder="Initial password (10+)" required>
                <select name="workspace" id="invite-workspace"><option value="new">New workspace…</option>{options}</select>
                <input type="text" name="newWorkspace" id="invite-new-workspace" placeholder="New workspace name">
                <button type="submit">Create user</button>
              </form>
              <p class="error">{E(error)}</p><p class="ok">{E(done)}</p>
            </section>
            """, status: error is null ? 200 : 400);
    }
}
