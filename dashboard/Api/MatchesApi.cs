using LeakHunter.Crawler.Alerts;
using LeakHunter.Index.Originals;
using LeakHunter.Index.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace LeakHunter.Dashboard.Api;

public static class MatchesApi
{
    public static IEndpointRouteBuilder MapMatchesApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/matches").WithTags("Matches");

        group.MapGet("/", async (string? originalId, string? targetId, IGrainFactory grains) =>
            Results.Ok(await Ledger(grains).ListAsync(originalId, targetId)))
            .WithSummary("Matches, newest first; filter by originalId and/or targetId.");

        group.MapGet("/{id}", async (string id, IGrainFactory grains) =>
            await Ledger(grains).GetAsync(id) is { } match ? Results.Ok(match) : ApiResults.NotFound("match", id));

        group.MapGet("/{id}/image", async (string id, IGrainFactory grains, IBlobStore blobs) =>
        {
            if (await Ledger(grains).GetAsync(id) is not { } match) return ApiResults.NotFound("match", id);
            var bytes = await blobs.GetAsync(FoundImages.BlobKey(match.ImageSha256));
            return bytes is null
                ? ApiResults.NotFound("found image", id)
                : Results.File(bytes, MediaTypeSniffer.SniffImage(bytes) ?? "application/octet-stream");
        });
        return app;
    }

    private static IMatchLedgerGrain Ledger(IGrainFactory grains) => grains.GetGrain<IMatchLedgerGrain>(Workspace.Default);
}
