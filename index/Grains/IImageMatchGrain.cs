using LeakHunter.Index.Copies;
using LeakHunter.Index.Imaging;
using LeakHunter.Index.Matching;
using LeakHunter.Index.Originals;
using LeakHunter.Index.Storage;
using LeakHunter.Index.Watermark;
using Orleans.Concurrency;

namespace LeakHunter.Index.Grains;

/// <summary>What matching one found image gave: a match (and whose copy it was), no match, or why the image was refused.</summary>
[GenerateSerializer, Immutable]
public sealed record ImageMatchOutcome(
    [property: Id(0)] MatchResult? Match,
    [property: Id(1)] string? Refused,
    [property: Id(2)] Attribution? Attribution = null);

/// <summary>Matches one found image against the registered originals.</summary>
public interface IImageMatchGrain : IGrainWithIntegerKey
{
    Task<ImageMatchOutcome> MatchAsync(byte[] imageBytes, string workspace);
}

/// <summary>
/// Decoding, fingerprinting, verification and watermark decoding are CPU-heavy: a stateless
/// worker lets every silo run several at once, on the silo that asked (local placement), with
/// no state to move.
/// </summary>
[StatelessWorker]
public sealed class ImageMatchGrain(CopyMatcher matcher, IBlobStore blobs, WatermarkKeyProvider watermarkKey)
    : Grain, IImageMatchGrain
{
    public async Task<ImageMatchOutcome> MatchAsync(byte[] imageBytes, string workspace)
    {
        // The matcher holds every workspace's originals; a crawl only ever looks among its own workspace's.
        var eligible = (await GrainFactory.GetGrain<IOriginalCatalogGrain>(workspace).ListAsync()).Select(o => o.Id).ToHashSet(StringComparer.Ordinal);
        MatchResult? match;
        try
        {
            match = await Task.Run(() => matcher.Match(imageBytes, eligible.Contains));
        }
        catch (ImageRejectedException e)
        {
            return new ImageMatchOutcome(null, e.Message);
        }
        if (match is null) return new ImageMatchOutcome(null, null);
        return new ImageMatchOutcome(match, null, await AttributeAsync(imageBytes, match, workspace));
    }

    /// <summary>
    /// Reads the watermark: informed first (the found image warped back onto the original with
    /// the match's homography), blind if that fails. A reading counts only if its check is valid
    /// and its payload names a copy of this very original.
    /// </summary>
    private async Task<Attribution?> AttributeAsync(byte[] imageBytes, MatchResult match, string workspace)
    {
        if (!watermarkKey.HasKey) return null;
        var catalog = GrainFactory.GetGrain<IOriginalCatalogGrain>(workspace);
        var copies = await catalog.ListCopiesAsync(match.OriginalId);
        if (copies.Count == 0) return null;
        var original = await blobs.GetAsync(OriginalCatalogGrain.BlobKey(match.OriginalId));
        var key = watermarkKey.Key;
        return await Task.Run(() =>
        {
            var readings = new List<Func<WatermarkReading>>();
            if (original is not null) readings.Add(() => WatermarkDecoder.DecodeInformed(imageBytes, original, key, match.Homography));
            readings.Add(() => WatermarkDecoder.DecodeBlind(imageBytes, key));
            foreach (var read in readings)
            {
                var reading = read();
                if (reading is { Found: true, Payload: { } payload }
                    && copies.FirstOrDefault(c => c.Payload == payload) is { } copy)
                    return new Attribution(copy.CopyId, copy.Recipient, Math.Round(reading.Confidence, 4), reading.Mode);
            }
            return null;
        });
    }
}
