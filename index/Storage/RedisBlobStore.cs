using StackExchange.Redis;

namespace LeakHunter.Index.Storage;

/// <summary>
/// Blobs in Redis, for a cluster: every silo and the dashboard see the same originals and found
/// images. A SET of one key is atomic, so readers see whole blobs.
/// </summary>
public sealed class RedisBlobStore(IConnectionMultiplexer redis) : IBlobStore
{
    private const string Prefix = "leakhunter:blob:";

    public Task PutAsync(string key, byte[] bytes, CancellationToken cancellationToken = default) =>
        redis.GetDatabase().StringSetAsync(Prefix + key, bytes);

    public async Task<byte[]?> GetAsync(string key, CancellationToken cancellationToken = default)
    {
        var value = await redis.GetDatabase().StringGetAsync(Prefix + key);
        return value.IsNull ? null : (byte[]?)value;
    }

    public Task DeleteAsync(string key, CancellationToken cancellationToken = default) =>
        redis.GetDatabase().KeyDeleteAsync(Prefix + key);
}
