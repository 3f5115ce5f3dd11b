using LeakHunter.Index.Copies;

namespace LeakHunter.Index.Originals;

/// <summary>A made copy, or why none was made.</summary>
[GenerateSerializer, Immutable]
public sealed record CopyOutcome(
    [property: Id(0)] CopyInfo? Copy,
    [property: Id(1)] string? Error);

/// <summary>The list of a workspace's protected originals. Key: workspace name.</summary>
public interface IOriginalCatalogGrain : IGrainWithStringKey
{
    /// <summary>Fingerprints and stores every file, or none of them if any is refused.</summary>
    Task<RegistrationOutcome> RegisterAsync(IReadOnlyList<OriginalUpload> uploads);

    Task<IReadOnlyList<OriginalInfo>> ListAsync();

    Task<OriginalInfo?> GetAsync(string originalId);

    Task<bool> DeleteAsync(string originalId);

    /// <summary>Makes a watermarked copy of an original for one recipient (null outcome copy: unknown original).</summary>
    Task<CopyOutcome> CreateCopyAsync(string originalId, CopyRequest request);

    Task<IReadOnlyList<CopyInfo>> ListCopiesAsync(string originalId);

    Task<CopyInfo?> GetCopyAsync(string copyId);
}
