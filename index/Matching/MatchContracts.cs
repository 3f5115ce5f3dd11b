namespace LeakHunter.Index.Matching;

/// <summary>What the matcher knows about a registered original after fingerprinting it.</summary>
public sealed record OriginalFingerprint(string OriginalId, string Sha256, int Width, int Height);

/// <summary>
/// How a found picture relates to its original, in the original's pixel coordinates.
/// Crop is [x, y, width, height] of the region of the original visible in the query.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record MatchTransform(
    [property: Id(0)] bool Mirror,
    [property: Id(1)] double Rotation,
    [property: Id(2)] double Scale,
    [property: Id(3)] int[] Crop);

/// <summary>
/// A decided match of a query image to one registered original. Score is calibrated in [0, 1]
/// (higher = more certain); Homography maps query pixel coordinates to original pixel coordinates
/// (row-major 3x3), null when the match was exact (same bytes).
/// </summary>
[GenerateSerializer, Immutable]
public sealed record MatchResult(
    [property: Id(0)] string OriginalId,
    [property: Id(1)] double Score,
    [property: Id(2)] MatchTransform? Transform,
    [property: Id(3)] double[]? Homography,
    [property: Id(4)] string QuerySha256);

/// <summary>Options of the matcher, bound from configuration section "Matching".</summary>
public sealed class MatcherOptions
{
    /// <summary>Images whose header announces more pixels than this are refused before decoding.</summary>
    public long MaxPixels { get; set; } = 100_000_000;

    /// <summary>Target false-match rate per comparison the decision threshold is derived from.</summary>
    public double TargetFalseMatchRate { get; set; } = 1e-6;
}
