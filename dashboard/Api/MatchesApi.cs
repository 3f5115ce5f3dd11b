using System.IO.Compression;
using System.Text.Json;
using LeakHunter.Crawler.Alerts;
using LeakHunter.Dashboard.Accounts;
using LeakHunter.Index.Originals;
using LeakHunter.Index.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace LeakHunter.Dashboard.Api;

/// <summary>The body of <c>POST /api/matches/{id}/review</c>: "confirmed", "false-match", or null to clear.</summary>
public sealed record ReviewRequest(string? Review);

public static class MatchesApi
{
    public static IEndpointRouteBuilder MapMatchesApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/matches").WithTags("Matches");

        group.MapGet("/", async (string? originalId, string? targetId, IGrainFactory grains, HttpContext http) =>
            Results.Ok(await Ledger(grains, http).ListAsync(originalId, targetId)))
            .WithSummary("Matches, newest first; filter by originalId and/or targetId.");

        group.MapGet("/{id}", async (string id, IGrainFactory grains, HttpContext http) =>
            await Ledger(grains, http).GetAsync(id) is { } match ? Results.Ok(match) : ApiResults.NotFound("match", id));

        group.MapGet("/{id}/image", async (string id, IGrainFactory grains, IBlobStore blobs, HttpContext http) =>
        {
            if (await Ledger(grains, http).GetAsync(id) is not { } match) return ApiResults.NotFound("match", id);
            var bytes = await blobs.GetAsync(FoundImages.BlobKey(match.ImageSha256));
            return bytes is null
                ? ApiResults.NotFound("found image", id)
                : Results.File(bytes, MediaTypeSniffer.SniffImage(bytes) ?? "application/octet-stream");
        });

        group.MapPost("/{id}/review", async (string id, ReviewRequest? body, IGrainFactory grains, HttpContext http) =>
        {
            if (!MatchReviews.IsValid(body?.Review))
                return ApiResults.BadRequest($"'review' must be \"{MatchReviews.Confirmed}\", \"{MatchReviews.FalseMatch}\" or null");
            return await Ledger(grains, http).ReviewAsync(id, body?.Review) is { } match ? Results.Ok(match) : ApiResults.NotFound("match", id);
        }).WithSummary("Mark a match as confirmed or as a false match (recorded; feeds nothing automatically).");

        group.MapGet("/{id}/evidence", async (string id, IGrainFactory grains, IBlobStore blobs, HttpContext http) =>
        {
            if (await Ledger(grains, http).GetAsync(id) is not { } match) return ApiResults.NotFound("match", id);
            var zip = await EvidenceBundleAsync(match, grains.GetGrain<IOriginalCatalogGrain>(http.WorkspaceId()), blobs);
            return Results.File(zip, "application/zip", $"leakhunter-evidence-{match.Id}.zip");
        }).WithSummary("A ZIP with the found image, the original, the match record as JSON and the page's HTML as fetched.");
        return app;
    }

    /// <summary>Everything needed to act on a leak, in one file a lawyer or a platform can be sent.</summary>
    public static async Task<byte[]> EvidenceBundleAsync(MatchRecord match, IOriginalCatalogGrain catalog, IBlobStore blobs)
    {
        using var buffer = new MemoryStream();
        using (var archive = new ZipArchive(buffer, ZipArchiveMode.Create, leaveOpen: true))
        {
            async Task AddAsync(string name, byte[]? bytes)
            {
                if (bytes is null) return;
                await using var entry = await archive.CreateEntry(name, CompressionLevel.Optimal).OpenAsync();
                await entry.WriteAsync(bytes);
            }
            var found = await blobs.GetAsync(FoundImages.BlobKey(match.ImageSha256));
            var original = await catalog.GetAsync(match.OriginalId);
            var originalBytes = await blobs.GetAsync(OriginalCatalogGrain.BlobKey(match.OriginalId));
            await AddAsync("found" + MediaTypeSniffer.ExtensionOf(MediaTypeSniffer.SniffImage(found) ?? ""), found);
            await AddAsync("original" + MediaTypeSniffer.ExtensionOf(original?.MediaType ?? ""), originalBytes);
            if (match.PageSha256 is { } page) await AddAsync("page.html", await blobs.GetAsync(FoundImages.PageBlobKey(page)));
            await AddAsync("match.json", JsonSerializer.SerializeToUtf8Bytes(new { match, original },
                new JsonSerializerOptions(JsonSerializerDefaults.Web) { WriteIndented = true }));
        }
        return buffer.ToArray();
    }

    private static IMatchLedgerGrain Ledger(IGrainFactory grains, HttpContext http) => grains.GetGrain<IMatchLedgerGrain>(http.WorkspaceId());
}
