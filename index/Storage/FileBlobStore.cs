using System.Text.RegularExpressions;

namespace LeakHunter.Index.Storage;

/// <summary>Blobs as files under a root directory, written to a temporary file and renamed into place.</summary>
public sealed partial class FileBlobStore(string rootDirectory) : IBlobStore
{
    [GeneratedRegex("^[a-z0-9_.-]+(/[a-z0-9_.-]+)*$")]
    private static partial Regex SafeKey();

    public async Task PutAsync(string key, byte[] bytes, CancellationToken cancellationToken = default)
    {
        var path = PathOf(key);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        await AtomicFile.WriteAllBytesAsync(path, bytes, cancellationToken);
    }

    public async Task<byte[]?> GetAsync(string key, CancellationToken cancellationToken = default)
    {
        var path = PathOf(key);
        return File.Exists(path) ? await File.ReadAllBytesAsync(path, cancellationToken) : null;
    }

    public Task DeleteAsync(string key, CancellationToken cancellationToken = default)
    {
        // Deleting what is not there is not an error (File.Delete says so too, unless the folder is missing).
        var path = PathOf(key);
        if (File.Exists(path)) File.Delete(path);
        return Task.CompletedTask;
    }

    private string PathOf(string key)
    {
        if (!SafeKey().IsMatch(key) || key.Contains(".."))
            throw new ArgumentException($"unsafe blob key '{key}'", nameof(key));
        return Path.Combine(rootDirectory, key);
    }
}
