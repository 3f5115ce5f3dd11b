using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace LeakHunter.Dashboard.Accounts;

/// <summary>
/// Who may do what: browsers sign in with a cookie (HttpOnly, SameSite=Strict, Secure over
/// HTTPS), programs send a workspace API key as a bearer token. Everything but /healthz and the
/// sign-in pages needs one of them. Every state-changing request made with a cookie must carry
/// an anti-forgery token; login is rate-limited per client address.
/// </summary>
public static class AuthExtensions
{
    public const string LoginRateLimit = "login";
    public const string AdminPolicy = "admin";
    private const string SmartScheme = "cookie-or-key";

    public static IServiceCollection AddLeakHunterAuth(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddAuthentication(SmartScheme)
            .AddPolicyScheme(SmartScheme, "Cookie or API key", o => o.ForwardDefaultSelector = context =>
                context.Request.Headers.Authorization.ToString().StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)
                    ? ApiKeyAuthenticationHandler.SchemeName
                    : CookieAuthenticationDefaults.AuthenticationScheme)
            .AddCookie(o =>
            {
                o.LoginPath = "/login";
                o.LogoutPath = "/logout";
                o.Cookie.Name = "leakhunter";
                o.Cookie.HttpOnly = true;
                o.Cookie.SameSite = SameSiteMode.Strict;
                o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
                o.ExpireTimeSpan = TimeSpan.FromHours(12);
                o.SlidingExpiration = true;
                // The API answers 401/403; only pages redirect to the sign-in page.
                o.Events.OnRedirectToLogin = context => Answer(context, StatusCodes.Status401Unauthorized);
                o.Events.OnRedirectToAccessDenied = context => Answer(context, StatusCodes.Status403Forbidden);
            })
            .AddScheme<ApiKeyAuthenticationOptions, ApiKeyAuthenticationHandler>(ApiKeyAuthenticationHandler.SchemeName,
                o => o.BootstrapApiKey = configuration["Auth:BootstrapApiKey"]);

        services.AddAuthorizationBuilder()
            .SetFallbackPolicy(new AuthorizationPolicyBuilder().RequireAuthenticatedUser().Build())
            .AddPolicy(AdminPolicy, p => p.RequireClaim(LeakHunterClaims.Admin, "true"));

        services.AddAntiforgery(o =>
        {
            o.HeaderName = "X-CSRF-TOKEN";
            o.Cookie.Name = "leakhunter-csrf";
            o.Cookie.SameSite = SameSiteMode.Strict;
            o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
        });

        services.AddRateLimiter(o =>
        {
            o.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            o.AddPolicy(LoginRateLimit, context => RateLimitPartition.GetFixedWindowLimiter(
                context.Connection.RemoteIpAddress?.ToString() ?? "unknown",
                _ => new FixedWindowRateLimiterOptions { PermitLimit = 10, Window = TimeSpan.FromMinutes(1), QueueLimit = 0 }));
        });
        return services;
    }

    public static WebApplication UseLeakHunterAuth(this WebApplication app)
    {
        app.UseRateLimiter();
        app.UseAuthentication();
        app.UseAuthorization();
        app.Use(RequireAntiforgeryForCookieWritesAsync);
        return app;
    }

    /// <summary>
    /// A cookie travels with any request a browser makes, also one forged by another site; an API
    /// key does not. So writes that rely on the cookie (or an anonymous sign-in form) must prove
    /// they come from our own pages with the anti-forgery token (form field or X-CSRF-TOKEN header).
    /// </summary>
    private static async Task RequireAntiforgeryForCookieWritesAsync(HttpContext context, RequestDelegate next)
    {
        var method = context.Request.Method;
        var isWrite = !(HttpMethods.IsGet(method) || HttpMethods.IsHead(method) || HttpMethods.IsOptions(method));
        var usesApiKey = context.User.Identity?.AuthenticationType == ApiKeyAuthenticationHandler.SchemeName;
        if (isWrite && !usesApiKey)
        {
            var antiforgery = context.RequestServices.GetRequiredService<IAntiforgery>();
            if (!await antiforgery.IsRequestValidAsync(context))
            {
                await Results.Problem(title: "Forbidden", detail: "missing or invalid anti-forgery token",
                    statusCode: StatusCodes.Status403Forbidden).ExecuteAsync(context);
                return;
            }
        }
        await next(context);
    }

    /// <summary>Paths programs call: they get a status code, never a redirect to the sign-in page.</summary>
    private static readonly string[] MachinePaths = ["/api", "/hubs", "/metrics", "/openapi"];

    private static Task Answer(RedirectContext<CookieAuthenticationOptions> context, int status)
    {
        if (MachinePaths.Any(p => context.Request.Path.StartsWithSegments(p)))
        {
            context.Response.StatusCode = status;
            return Task.CompletedTask;
        }
        context.Response.Redirect(context.RedirectUri);
        return Task.CompletedTask;
    }
}
