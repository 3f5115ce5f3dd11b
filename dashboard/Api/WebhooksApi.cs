using LeakHunter.Crawler.Alerts;
using LeakHunter.Dashboard.Accounts;
using LeakHunter.Index.Originals;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace LeakHunter.Dashboard.Api;

/// <summary>The body of <c>POST /api/webhooks</c>.</summary>
public sealed record CreateWebhookRequest(string? Url, string? Secret);

public static class WebhooksApi
{
    public const int MinSecretLength = 16;

    public static IEndpointRouteBuilder MapWebhooksApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/webhooks").WithTags("Webhooks");

        group.MapPost("/", async (CreateWebhookRequest? body, IGrainFactory grains, HttpContext http) =>
        {
            if (body is null) return ApiResults.BadRequest("expected a JSON body { url, secret }");
            if (!Uri.TryCreate(body.Url, UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https"))
                return ApiResults.BadRequest("'url' must be an absolute http or https URL");
            if (string.IsNullOrEmpty(body.Secret) || body.Secret.Length < MinSecretLength)
                return ApiResults.BadRequest($"'secret' must be at least {MinSecretLength} characters");
            var webhook = await Registry(grains, http).AddAsync(url, body.Secret);
            return Results.Ok(new { id = webhook.Id });
        });

        group.MapGet("/", async (IGrainFactory grains, HttpContext http) => Results.Ok(await Registry(grains, http).ListAsync()));

        group.MapGet("/{id}", async (string id, IGrainFactory grains, HttpContext http) =>
            await Registry(grains, http).GetAsync(id) is { } webhook ? Results.Ok(webhook.Info) : ApiResults.NotFound("webhook", id));

        group.MapDelete("/{id}", async (string id, IGrainFactory grains, HttpContext http) =>
            await Registry(grains, http).RemoveAsync(id) ? Results.NoContent() : ApiResults.NotFound("webhook", id));
        return app;
    }

    private static IWebhookRegistryGrain Registry(IGrainFactory grains, HttpContext http) => grains.GetGrain<IWebhookRegistryGrain>(http.WorkspaceId());
}
