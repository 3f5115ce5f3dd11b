using Orleans.Concurrency;
using LeakHunter.Index.Imaging;
using LeakHunter.Index.Matching;

namespace LeakHunter.Index.Grains;

/// <summary>What matching one found image gave: a match, no match, or why the image was refused.</summary>
[GenerateSerializer, Immutable]
public sealed record ImageMatchOutcome(
    [property: Id(0)] MatchResult? Match,
    [property: Id(1)] string? Refused);

/// <summary>Matches one found image against the registered originals.</summary>
public interface IImageMatchGrain : IGrainWithIntegerKey
{
    Task<ImageMatchOutcome> MatchAsync(byte[] imageBytes);
}

/// <summary>
/// Decoding, fingerprinting and verification are CPU-heavy: a stateless worker lets every silo
/// run several at once, on the silo that asked (local placement), with no state to move.
/// </summary>
[StatelessWorker]
public sealed class ImageMatchGrain(CopyMatcher matcher) : Grain, IImageMatchGrain
{
    public Task<ImageMatchOutcome> MatchAsync(byte[] imageBytes) => Task.Run(() =>
    {
        try
        {
            return new ImageMatchOutcome(matcher.Match(imageBytes), null);
        }
        catch (ImageRejectedException e)
        {
            return new ImageMatchOutcome(null, e.Message);
        }
    });
}
