namespace LeakHunter.Index.Storage;

/// <summary>
/// Stores image bytes (originals, found copies) by key, e.g. "originals/{id}".
/// Keys are made of [a-z0-9/_-.] only; writes are atomic (a reader sees the old or the new bytes).
/// </summary>
public interface IBlobStore
{
    Task PutAsync(string key, byte[] bytes, CancellationToken cancellationToken = default);
    Task<byte[]?> GetAsync(string key, CancellationToken cancellationToken = default);
    Task DeleteAsync(string key, CancellationToken cancellationToken = default);
}
