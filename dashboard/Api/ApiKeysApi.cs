using LeakHunter.Dashboard.Accounts;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace LeakHunter.Dashboard.Api;

/// <summary>The body of <c>POST /api/apikeys</c>.</summary>
public sealed record CreateApiKeyRequest(string? Name);

/// <summary>Workspace API keys: the key itself is returned once, at creation; only its hash is kept.</summary>
public static class ApiKeysApi
{
    public static IEndpointRouteBuilder MapApiKeysApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/apikeys").WithTags("API keys");

        group.MapPost("/", async (CreateApiKeyRequest? body, IGrainFactory grains, HttpContext http) =>
        {
            var name = body?.Name?.Trim();
            if (string.IsNullOrEmpty(name) || name.Length > 100) return ApiResults.BadRequest("'name' is required (at most 100 characters)");
            var key = ApiKeys.Generate();
            var record = await Accounts(grains).AddApiKeyAsync(http.WorkspaceId(), name, ApiKeys.DisplayPrefix(key), ApiKeys.Sha256(key));
            return Results.Ok(new { id = record.Id, name = record.Name, key });
        });

        group.MapGet("/", async (IGrainFactory grains, HttpContext http) =>
            Results.Ok((await Accounts(grains).ListApiKeysAsync(http.WorkspaceId()))
                .Select(k => new { k.Id, k.Name, k.Prefix, k.CreatedAt, k.RevokedAt })));

        group.MapDelete("/{id}", async (string id, IGrainFactory grains, HttpContext http) =>
            await Accounts(grains).RevokeApiKeyAsync(http.WorkspaceId(), id) ? Results.NoContent() : ApiResults.NotFound("API key", id));
        return app;
    }

    private static IAccountsGrain Accounts(IGrainFactory grains) => grains.GetGrain<IAccountsGrain>(IAccountsGrain.Key);
}
