using LeakHunter.Dashboard.Accounts;
using LeakHunter.Index.Originals;
using LeakHunter.Index.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;

namespace LeakHunter.Dashboard.Api;

public static class OriginalsApi
{
    /// <summary>Largest single file accepted for registration.</summary>
    public const long MaxFileBytes = 64L * 1024 * 1024;

    /// <summary>Largest upload (all files of one request); Kestrel's default of 30 MB would refuse one big photo.</summary>
    public const long MaxUploadBytes = 8 * MaxFileBytes;

    public static IEndpointRouteBuilder MapOriginalsApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/originals").WithTags("Originals");

        group.MapPost("/", RegisterAsync)
            .DisableAntiforgery()
            .Produces<OriginalInfo[]>()
            .ProducesValidationProblem()
            .WithSummary("Register one or more images (multipart field 'files', optional 'title').");

        group.MapGet("/", async (IGrainFactory grains, HttpContext http) =>
            Results.Ok(await Catalog(grains, http).ListAsync()));

        group.MapGet("/{id}", async (string id, IGrainFactory grains, HttpContext http) =>
            await Catalog(grains, http).GetAsync(id) is { } original ? Results.Ok(original) : ApiResults.NotFound("original", id));

        group.MapGet("/{id}/image", async (string id, IGrainFactory grains, IBlobStore blobs, HttpContext http) =>
        {
            if (await Catalog(grains, http).GetAsync(id) is not { } original) return ApiResults.NotFound("original", id);
            var bytes = await blobs.GetAsync(OriginalCatalogGrain.BlobKey(id));
            return bytes is null ? ApiResults.NotFound("original image", id) : Results.File(bytes, original.MediaType);
        });

        group.MapGet("/{id}/thumbnail", async (string id, IGrainFactory grains, IBlobStore blobs, HttpContext http) =>
        {
            if (await Catalog(grains, http).GetAsync(id) is null) return ApiResults.NotFound("original", id);
            var bytes = await Thumbnails.GetOrMakeAsync(blobs, id);
            return bytes is null ? ApiResults.NotFound("original image", id) : Results.File(bytes, "image/jpeg");
        }).WithSummary($"A JPEG preview, at most {Thumbnails.LongSide} pixels on its long side.");

        group.MapDelete("/{id}", async (string id, IGrainFactory grains, HttpContext http) =>
            await Catalog(grains, http).DeleteAsync(id) ? Results.NoContent() : ApiResults.NotFound("original", id));
        return app;
    }

    private static async Task<IResult> RegisterAsync(HttpRequest request, IGrainFactory grains, HttpContext http)
    {
        if (!request.HasFormContentType)
            return ApiResults.BadRequest("expected multipart/form-data with one or more image files in the field 'files'");
        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
            limit.MaxRequestBodySize = MaxUploadBytes;
        IFormCollection form;
        try
        {
            form = await request.ReadFormAsync();
        }
        catch (Exception e) when (e is InvalidDataException or IOException or BadHttpRequestException)
        {
            return ApiResults.BadRequest($"the upload could not be read: {e.Message}");
        }
        var files = form.Files.GetFiles("files");
        if (files.Count == 0)
            return ApiResults.BadRequest("no files: send one or more image files in the multipart field 'files'");
        var title = form["title"].FirstOrDefault();
        var uploads = new List<OriginalUpload>();
        var tooLarge = new Dictionary<string, string[]>();
        foreach (var file in files)
        {
            if (file.Length > MaxFileBytes)
            {
                tooLarge[file.FileName] = [$"larger than {MaxFileBytes / (1024 * 1024)} MB"];
                continue;
            }
            using var buffer = new MemoryStream((int)file.Length);
            await file.CopyToAsync(buffer);
            uploads.Add(new OriginalUpload(file.FileName, title, buffer.ToArray()));
        }
        if (tooLarge.Count > 0) return ApiResults.BadRequest("some files were refused; nothing was registered", tooLarge);

        var outcome = await Catalog(grains, http).RegisterAsync(uploads);
        if (outcome.Refused.Count > 0)
        {
            var errors = outcome.Refused.GroupBy(r => r.FileName).ToDictionary(g => g.Key, g => g.Select(r => r.Reason).ToArray());
            return ApiResults.BadRequest("some files were refused; nothing was registered", errors);
        }
        return Results.Ok(outcome.Registered);
    }

    private static IOriginalCatalogGrain Catalog(IGrainFactory grains, HttpContext http) => grains.GetGrain<IOriginalCatalogGrain>(http.WorkspaceId());
}
