namespace LeakHunter.Index.Originals;

/// <summary>The list of a workspace's protected originals. Key: workspace name.</summary>
public interface IOriginalCatalogGrain : IGrainWithStringKey
{
    /// <summary>Fingerprints and stores every file, or none of them if any is refused.</summary>
    Task<RegistrationOutcome> RegisterAsync(IReadOnlyList<OriginalUpload> uploads);

    Task<IReadOnlyList<OriginalInfo>> ListAsync();

    Task<OriginalInfo?> GetAsync(string originalId);

    Task<bool> DeleteAsync(string originalId);
}
