using LeakHunter.Crawler.Grains;
using LeakHunter.Crawler.Urls;
using LeakHunter.Dashboard.Accounts;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace LeakHunter.Dashboard.Api;

/// <summary>The body of <c>POST /api/targets</c>.</summary>
public sealed record CreateTargetRequest(string? Url, string? Scope, int? MaxDepth, int? MaxPages, string[]? Urls, double? RevisitMinutes = null);

/// <summary>A target and its progress, as the API returns it.</summary>
public sealed record TargetView(
    string Id, string Url, string Scope, int MaxDepth, int MaxPages, IReadOnlyList<string> Urls,
    string State, int PagesFetched, int ImagesSeen, int Matches, int Errors, string? LastError,
    DateTimeOffset CreatedAt, DateTimeOffset? FinishedAt,
    double RevisitMinutes, int Round, DateTimeOffset? NextRevisitAt, int Frontier, int PagesInFlight,
    IReadOnlyDictionary<string, int> PagesBySilo)
{
    public static TargetView From(TargetProgress p) => new(p.Id, p.Spec.Url.AbsoluteUri,
        p.Spec.Scope.ToString().ToLowerInvariant(), p.Spec.MaxDepth, p.Spec.MaxPages,
        p.Spec.Urls.Select(u => u.AbsoluteUri).ToList(), p.State, p.PagesFetched, p.ImagesSeen, p.Matches,
        p.Errors, p.LastError, p.CreatedAt, p.FinishedAt,
        p.Spec.RevisitMinutes, p.Round, p.NextRevisitAt, p.Frontier, p.PagesInFlight, p.PagesBySilo ?? new Dictionary<string, int>());
}

public static class TargetsApi
{
    public const int MaxDepthLimit = 20;
    public const int MaxPagesLimit = 1_000_000;
    public const double MaxRevisitMinutes = 60 * 24 * 365;

    public static IEndpointRouteBuilder MapTargetsApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/targets").WithTags("Targets");

        group.MapPost("/", async (CreateTargetRequest? body, IGrainFactory grains, HttpContext http) =>
        {
            if (body is null) return ApiResults.BadRequest("expected a JSON body { url, scope, maxDepth, maxPages, urls? }");
            if (Validate(body) is { } error) return ApiResults.BadRequest(error);
            var scope = ParseScope(body.Scope ?? "host")!.Value;
            var spec = new TargetSpec(UrlNormalizer.Normalize(body.Url!)!, scope, body.MaxDepth ?? 2, body.MaxPages ?? 100,
                (body.Urls ?? []).Select(u => UrlNormalizer.Normalize(u)!).ToList(), http.WorkspaceId(), body.RevisitMinutes ?? 0);
            var id = Guid.NewGuid().ToString("N")[..16];
            await grains.GetGrain<ICrawlTargetGrain>(id).StartAsync(spec);
            return Results.Ok(new { id });
        }).Produces(StatusCodes.Status200OK).ProducesProblem(StatusCodes.Status400BadRequest);

        group.MapGet("/", async (IGrainFactory grains, HttpContext http) =>
        {
            var ids = await grains.GetGrain<ITargetCatalogGrain>(http.WorkspaceId()).ListAsync();
            var progress = await Task.WhenAll(ids.Select(id => grains.GetGrain<ICrawlTargetGrain>(id).GetProgressAsync()));
            return Results.Ok(progress.OfType<TargetProgress>().Select(TargetView.From).Reverse().ToList());
        });

        group.MapGet("/{id}", async (string id, IGrainFactory grains, HttpContext http) =>
            await FindAsync(grains, http, id) is { } progress ? Results.Ok(TargetView.From(progress)) : ApiResults.NotFound("target", id));
        return app;
    }

    /// <summary>A target exists only if it is in the workspace's catalog (grains exist for any key).</summary>
    internal static async Task<TargetProgress?> FindAsync(IGrainFactory grains, HttpContext http, string id)
    {
        var ids = await grains.GetGrain<ITargetCatalogGrain>(http.WorkspaceId()).ListAsync();
        return ids.Contains(id) ? await grains.GetGrain<ICrawlTargetGrain>(id).GetProgressAsync() : null;
    }

    private static CrawlScopeKind? ParseScope(string scope) => scope.ToLowerInvariant() switch
    {
        "host" => CrawlScopeKind.Host,
        "domain" => CrawlScopeKind.Domain,
        "urls" => CrawlScopeKind.Urls,
        _ => null,
    };

    private static string? Validate(CreateTargetRequest body)
    {
        if (string.IsNullOrWhiteSpace(body.Url)) return "'url' is required";
        if (UrlNormalizer.Normalize(body.Url) is null) return $"'url' must be an absolute http or https URL, not '{body.Url}'";
        if (body.Scope is not null && ParseScope(body.Scope) is null)
            return $"'scope' must be one of host, domain, urls, not '{body.Scope}'";
        if (body.MaxDepth is < 0 or > MaxDepthLimit) return $"'maxDepth' must be between 0 and {MaxDepthLimit}";
        if (body.MaxPages is < 1 or > MaxPagesLimit) return $"'maxPages' must be between 1 and {MaxPagesLimit}";
        if (body.RevisitMinutes is { } revisit && (double.IsNaN(revisit) || revisit < 0 || revisit > MaxRevisitMinutes))
            return $"'revisitMinutes' must be between 0 (no revisits) and {MaxRevisitMinutes}";
        if (ParseScope(body.Scope ?? "host") == CrawlScopeKind.Urls && (body.Urls is null || body.Urls.Length == 0)) return "scope 'urls' needs a non-empty 'urls' list";
        foreach (var url in body.Urls ?? [])
            if (UrlNormalizer.Normalize(url) is null) return $"'urls' holds '{url}', which is not an absolute http or https URL";
        return null;
    }
}
