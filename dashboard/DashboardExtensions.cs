using System.Text.Json;
using System.Text.Json.Serialization;
using LeakHunter.Dashboard.Accounts;
using LeakHunter.Dashboard.Api;
using LeakHunter.Dashboard.Live;
using LeakHunter.Dashboard.Operations;
using LeakHunter.Dashboard.Pages;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace LeakHunter.Dashboard;

public static class DashboardExtensions
{
    /// <summary>Services of the HTTP API and dashboard: JSON, problem details, OpenAPI, accounts, live progress.</summary>
    public static IServiceCollection AddDashboard(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddProblemDetails();
        services.AddOpenApi();
        services.ConfigureHttpJsonOptions(o =>
        {
            o.SerializerOptions.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.CamelCase));
            o.SerializerOptions.DefaultIgnoreCondition = JsonIgnoreCondition.Never;
        });
        services.Configure<FormOptions>(o => o.MultipartBodyLengthLimit = OriginalsApi.MaxUploadBytes);
        services.AddLeakHunterAuth(configuration);
        services.AddSignalR();
        services.AddSingleton<ProgressSubscriptions>();
        services.AddHostedService<ProgressBroadcaster>();
        return services;
    }

    /// <summary>
    /// Authentication first, then the API (under /api), the OpenAPI document (/openapi/v1.json),
    /// the pages, the live hub, /metrics and /healthz. Everything but /healthz and the sign-in
    /// pages needs a session cookie or a workspace API key.
    /// </summary>
    public static WebApplication MapDashboard(this WebApplication app)
    {
        app.Use(AddSecurityHeadersAsync);
        app.UseLeakHunterAuth();
        app.MapOpenApi();
        app.MapHealthCheck();
        app.MapOriginalsApi();
        app.MapCopiesApi();
        app.MapTargetsApi();
        app.MapWebhooksApi();
        app.MapMatchesApi();
        app.MapApiKeysApi();
        app.MapClusterApi();
        app.MapMetrics();
        app.MapHub<ProgressHub>(ProgressHub.Path);
        app.MapScriptLibraries();
        app.MapAccountPages();
        app.MapDashboardPages();
        app.MapEvidencePages();
        app.MapOperationsPages();
        return app;
    }

    /// <summary>
    /// Pages may only run our own scripts and load our own images, may not be framed (click-jacking),
    /// and never send the dashboard's address to the sites a person opens from it.
    /// </summary>
    private static Task AddSecurityHeadersAsync(HttpContext context, RequestDelegate next)
    {
        var headers = context.Response.Headers;
        headers.XContentTypeOptions = "nosniff";
        headers.XFrameOptions = "DENY";
        headers["Referrer-Policy"] = "no-referrer";
        headers.ContentSecurityPolicy = "default-src 'self'; img-src 'self' data: blob:; script-src 'self' 'unsafe-inline'; " +
            "style-src 'self' 'unsafe-inline'; connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'";
        return next(context);
    }

    /// <summary>The one endpoint open to anyone: load balancers and orchestrators probe it.</summary>
    public static IEndpointRouteBuilder MapHealthCheck(this IEndpointRouteBuilder app)
    {
        app.MapGet("/healthz", () => "ok").AllowAnonymous().ExcludeFromDescription();
        return app;
    }
}
