using Microsoft.AspNetCore.Http;
using System.Text.Json;
using System.Text.Json.Serialization;
using LeakHunter.Dashboard.Api;
using LeakHunter.Dashboard.Pages;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace LeakHunter.Dashboard;

public static class DashboardExtensions
{
    /// <summary>Services of the HTTP API and dashboard: JSON, problem details, OpenAPI.</summary>
    public static IServiceCollection AddDashboard(this IServiceCollection services)
    {
        services.AddProblemDetails();
        services.AddOpenApi();
        services.ConfigureHttpJsonOptions(o =>
        {
            o.SerializerOptions.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.CamelCase));
            o.SerializerOptions.DefaultIgnoreCondition = JsonIgnoreCondition.Never;
        });
        return services;
    }

    /// <summary>Maps the API (under /api), the OpenAPI document (/openapi/v1.json) and the dashboard page (/).</summary>
    public static IEndpointRouteBuilder MapDashboard(this IEndpointRouteBuilder app)
    {
        app.MapOpenApi();
        app.MapGet("/healthz", () => "ok").ExcludeFromDescription();
        app.MapOriginalsApi();
        app.MapCopiesApi();
        app.MapTargetsApi();
        app.MapWebhooksApi();
        app.MapMatchesApi();
        app.MapDashboardPages();
        return app;
    }
}
