using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using LeakHunter.Index.Storage;
using Orleans.Storage;

namespace LeakHunter.SiloHost.Hosting;

/// <summary>
/// Grain state for a standalone node: one JSON file per grain and state name under the data
/// directory, replaced atomically on every write, so a crash leaves the previous state intact.
/// One silo owns the directory, so the ETag only tells "exists" from "new".
/// </summary>
public sealed class FileGrainStorage(string directory) : IGrainStorage
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public async Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var path = PathOf(stateName, grainId);
        if (!File.Exists(path))
        {
            grainState.RecordExists = false;
            return;
        }
        await using var stream = File.OpenRead(path);
        grainState.State = await JsonSerializer.DeserializeAsync<T>(stream, Json)
            ?? throw new InvalidDataException($"empty grain state in {path}");
        grainState.RecordExists = true;
        grainState.ETag = File.GetLastWriteTimeUtc(path).Ticks.ToString();
    }

    public async Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var path = PathOf(stateName, grainId);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        await AtomicFile.WriteAllBytesAsync(path, JsonSerializer.SerializeToUtf8Bytes(grainState.State, Json));
        grainState.RecordExists = true;
        grainState.ETag = File.GetLastWriteTimeUtc(path).Ticks.ToString();
    }

    public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        File.Delete(PathOf(stateName, grainId));
        grainState.RecordExists = false;
        grainState.ETag = null;
        return Task.CompletedTask;
    }

    /// <summary>data/grains/{state name}/{readable key prefix}-{hash of the grain id}.json</summary>
    private string PathOf(string stateName, GrainId grainId)
    {
        var id = grainId.ToString();
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(id)))[..24];
        var readable = new string(grainId.Key.ToString().Select(c => char.IsAsciiLetterOrDigit(c) ? c : '_').Take(40).ToArray());
        return Path.Combine(directory, SafeName(stateName), $"{readable}-{hash}.json");
    }

    private static string SafeName(string name) =>
        new(name.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' ? c : '_').ToArray());
}
