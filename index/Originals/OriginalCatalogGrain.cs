using Orleans.Runtime;
using System.Security.Cryptography;
using LeakHunter.Index.Copies;
using LeakHunter.Index.Grains;
using LeakHunter.Index.Imaging;
using LeakHunter.Index.Matching;
using LeakHunter.Index.Storage;
using Microsoft.Extensions.Logging;

namespace LeakHunter.Index.Originals;

public sealed class OriginalCatalogState
{
    public Dictionary<string, OriginalInfo> Originals { get; set; } = new(StringComparer.Ordinal);
    public Dictionary<string, CopyInfo> Copies { get; set; } = new(StringComparer.Ordinal);
}

/// <summary>
/// Registers a workspace's originals: refuses what is not an image, too large or already
/// registered, fingerprints the rest into the matcher, keeps their bytes in the blob store and
/// their descriptions in grain state. The matcher and the blobs are written before the state, and
/// undone if a later step fails, so a failed registration leaves nothing behind.
/// </summary>
public sealed class OriginalCatalogGrain(
    [PersistentState("originals", StorageNames.State)] IPersistentState<OriginalCatalogState> state,
    CopyMatcher matcher,
    IBlobStore blobs,
    WatermarkKeyProvider watermarkKey,
    ILogger<OriginalCatalogGrain> logger) : Grain, IOriginalCatalogGrain
{
    public static string BlobKey(string originalId) => $"originals/{originalId}";

    /// <summary>The gallery preview the dashboard makes on first view (deleted with the original).</summary>
    public static string ThumbnailBlobKey(string originalId) => $"thumbs/{originalId}";

    public static string CopyBlobKey(string copyId) => $"copies/{copyId}";

    public async Task<RegistrationOutcome> RegisterAsync(IReadOnlyList<OriginalUpload> uploads)
    {
        var refused = new List<RefusedUpload>();
        var accepted = new List<(OriginalUpload Upload, string MediaType, string Sha256)>();
        var shasInBatch = new HashSet<string>(StringComparer.Ordinal);
        foreach (var upload in uploads)
        {
            var mediaType = MediaTypeSniffer.SniffImage(upload.Bytes);
            var sha256 = Convert.ToHexStringLower(SHA256.HashData(upload.Bytes));
            var existing = state.State.Originals.Values.FirstOrDefault(o => o.Sha256 == sha256);
            if (upload.Bytes.Length == 0)
                refused.Add(new(upload.FileName, "the file is empty"));
            else if (mediaType is null)
                refused.Add(new(upload.FileName, "not an image (JPEG, PNG, WebP, GIF, BMP or TIFF expected)"));
            else if (existing is not null)
                refused.Add(new(upload.FileName, $"duplicate of original {existing.Id} ({existing.Title})"));
            else if (!shasInBatch.Add(sha256))
                refused.Add(new(upload.FileName, "the same file appears twice in this upload"));
            else
                accepted.Add((upload, mediaType, sha256));
        }
        if (refused.Count > 0) return new([], refused);

        var registered = new List<OriginalInfo>();
        try
        {
            foreach (var (upload, mediaType, sha256) in accepted)
            {
                var id = Guid.NewGuid().ToString("N")[..16];
                OriginalFingerprint fingerprint;
                try
                {
                    // CPU-heavy: decode and fingerprint off the grain's turn-based scheduler.
                    fingerprint = await Task.Run(() => matcher.Register(id, upload.Bytes));
                }
                catch (ImageRejectedException e)
                {
                    refused.Add(new(upload.FileName, e.Message));
                    continue;
                }
                registered.Add(new OriginalInfo(id, TitleOf(upload), upload.FileName, fingerprint.Width,
                    fingerprint.Height, sha256, mediaType, DateTimeOffset.UtcNow));
                await blobs.PutAsync(BlobKey(id), upload.Bytes);
            }
            if (refused.Count > 0)
            {
                await UndoAsync(registered);
                return new([], refused);
            }
            foreach (var original in registered) state.State.Originals[original.Id] = original;
            await state.WriteStateAsync();
            // Matchers on other silos find this workspace's originals through the registry.
            await GrainFactory.GetGrain<IWorkspaceRegistryGrain>(WorkspaceRegistryGrain.Key).AddAsync(this.GetPrimaryKeyString());
        }
        catch
        {
            foreach (var original in registered) state.State.Originals.Remove(original.Id);
            await UndoAsync(registered);
            throw;
        }
        logger.LogInformation("Registered {Count} original(s)", registered.Count);
        return new(registered, []);
    }

    public Task<IReadOnlyList<OriginalInfo>> ListAsync() =>
        Task.FromResult<IReadOnlyList<OriginalInfo>>(
            state.State.Originals.Values.OrderByDescending(o => o.RegisteredAt).ToList());

    public Task<OriginalInfo?> GetAsync(string originalId) =>
        Task.FromResult(state.State.Originals.GetValueOrDefault(originalId));

    public async Task<bool> DeleteAsync(string originalId)
    {
        if (!state.State.Originals.Remove(originalId)) return false;
        var copies = state.State.Copies.Values.Where(c => c.OriginalId == originalId).ToList();
        foreach (var copy in copies) state.State.Copies.Remove(copy.CopyId);
        await state.WriteStateAsync();
        matcher.Remove(originalId);
        await blobs.DeleteAsync(BlobKey(originalId));
        await blobs.DeleteAsync(ThumbnailBlobKey(originalId));
        foreach (var copy in copies) await blobs.DeleteAsync(CopyBlobKey(copy.CopyId));
        return true;
    }

    public async Task<CopyOutcome> CreateCopyAsync(string originalId, CopyRequest request)
    {
        if (!state.State.Originals.TryGetValue(originalId, out var original)) return new(null, null);
        if (!watermarkKey.HasKey) return new(null, watermarkKey.Problem);
        var bytes = await blobs.GetAsync(BlobKey(originalId)) ?? throw new InvalidOperationException($"the image of original {originalId} is missing");
        uint payload;
        do payload = (uint)Random.Shared.NextInt64(1, uint.MaxValue);
        while (state.State.Copies.ContainsKey(CopyInfo.IdOf(payload)));
        // CPU-heavy: embed off the grain's scheduler.
        var (copyBytes, mediaType) = await Task.Run(() => CopyMaker.Make(bytes, payload, watermarkKey.Key, request));
        var copy = new CopyInfo(CopyInfo.IdOf(payload), original.Id, request.Recipient, request.Note, mediaType, DateTimeOffset.UtcNow);
        await blobs.PutAsync(CopyBlobKey(copy.CopyId), copyBytes);
        state.State.Copies[copy.CopyId] = copy;
        await state.WriteStateAsync();
        logger.LogInformation("Made copy {CopyId} of original {OriginalId}", copy.CopyId, originalId);
        return new(copy, null);
    }

    public Task<IReadOnlyList<CopyInfo>> ListCopiesAsync(string originalId) =>
        Task.FromResult<IReadOnlyList<CopyInfo>>(state.State.Copies.Values
            .Where(c => c.OriginalId == originalId).OrderBy(c => c.CreatedAt).ToList());

    public Task<CopyInfo?> GetCopyAsync(string copyId) => Task.FromResult(state.State.Copies.GetValueOrDefault(copyId));

    private async Task UndoAsync(IEnumerable<OriginalInfo> registered)
    {
        foreach (var original in registered)
        {
            matcher.Remove(original.Id);
            await blobs.DeleteAsync(BlobKey(original.Id));
        }
    }

    private static string TitleOf(OriginalUpload upload) =>
        string.IsNullOrWhiteSpace(upload.Title) ? Path.GetFileNameWithoutExtension(upload.FileName) : upload.Title.Trim();
}
