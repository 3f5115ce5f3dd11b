using LeakHunter.Index.Copies;
using LeakHunter.Dashboard.Accounts;
using LeakHunter.Index.Originals;
using LeakHunter.Index.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace LeakHunter.Dashboard.Api;

/// <summary>The body of <c>POST /api/originals/{id}/copies</c>.</summary>
public sealed record CreateCopyRequest(string? Recipient, string? Note, string? DataMining, string? Copyright, string? Creator);

/// <summary>A recipient copy as the API shows it.</summary>
public sealed record CopyView(string CopyId, string OriginalId, string Recipient, string? Note, string MediaType,
    DateTimeOffset CreatedAt, string DownloadUrl)
{
    public static CopyView From(CopyInfo c) =>
        new(c.CopyId, c.OriginalId, c.Recipient, c.Note, c.MediaType, c.CreatedAt, $"/api/copies/{c.CopyId}/download");
}

public static class CopiesApi
{
    public const int MaxRecipientLength = 200;

    public static IEndpointRouteBuilder MapCopiesApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/api/originals/{id}/copies", async (string id, CreateCopyRequest? body, IGrainFactory grains, HttpContext http) =>
        {
            if (body is null) return ApiResults.BadRequest("expected a JSON body { recipient, note?, dataMining?, copyright?, creator? }");
            var recipient = body.Recipient?.Trim();
            if (string.IsNullOrEmpty(recipient) || recipient.Length > MaxRecipientLength)
                return ApiResults.BadRequest($"'recipient' is required (at most {MaxRecipientLength} characters)");
            var dataMining = body.DataMining ?? PlusDataMining.Prohibited;
            if (!PlusDataMining.Values.Contains(dataMining))
                return ApiResults.BadRequest($"'dataMining' must be one of {string.Join(", ", PlusDataMining.Values)}");
            var outcome = await Catalog(grains, http).CreateCopyAsync(id, new CopyRequest(recipient, body.Note, dataMining, body.Copyright, body.Creator));
            if (outcome.Error is { } error)
                return Results.Problem(title: "Copies unavailable", detail: error, statusCode: StatusCodes.Status503ServiceUnavailable);
            if (outcome.Copy is not { } copy) return ApiResults.NotFound("original", id);
            var view = CopyView.From(copy);
            return Results.Ok(new { copyId = view.CopyId, downloadUrl = view.DownloadUrl });
        }).WithTags("Copies").WithSummary("Make a watermarked copy of an original for one recipient.");

        app.MapGet("/api/originals/{id}/copies", async (string id, IGrainFactory grains, HttpContext http) =>
        {
            if (await Catalog(grains, http).GetAsync(id) is null) return ApiResults.NotFound("original", id);
            return Results.Ok((await Catalog(grains, http).ListCopiesAsync(id)).Select(CopyView.From));
        }).WithTags("Copies");

        app.MapGet("/api/copies/{copyId}/download", async (string copyId, IGrainFactory grains, IBlobStore blobs, HttpContext http) =>
        {
            if (await Catalog(grains, http).GetCopyAsync(copyId) is not { } copy) return ApiResults.NotFound("copy", copyId);
            var bytes = await blobs.GetAsync(OriginalCatalogGrain.CopyBlobKey(copyId));
            if (bytes is null) return ApiResults.NotFound("copy", copyId);
            var title = (await Catalog(grains, http).GetAsync(copy.OriginalId))?.Title ?? copy.OriginalId;
            return Results.File(bytes, copy.MediaType, $"{title}-{copy.Recipient}{MediaTypeSniffer.ExtensionOf(copy.MediaType)}");
        }).WithTags("Copies");
        return app;
    }

    private static IOriginalCatalogGrain Catalog(IGrainFactory grains, HttpContext http) => grains.GetGrain<IOriginalCatalogGrain>(http.WorkspaceId());
}
