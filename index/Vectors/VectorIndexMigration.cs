namespace LeakHunter.Index.Vectors;

/// <summary>Copies every entry of an embedded index into another index (e.g. Qdrant), in batches.</summary>
public static class VectorIndexMigration
{
    public static async Task<long> CopyAsync(EmbeddedVectorIndex source, IVectorIndex target, int batchSize = 256,
        Action<long>? progress = null, CancellationToken ct = default)
    {
        if (source.Dimension != target.Dimension)
            throw new ArgumentException($"source has {source.Dimension} dimensions, target {target.Dimension}");
        var batch = new List<VectorRecord>(batchSize);
        long copied = 0;
        foreach (var record in source.ReadAll())
        {
            batch.Add(record);
            if (batch.Count < batchSize) continue;
            await target.UpsertAsync(batch, ct);
            copied += batch.Count;
            batch.Clear();
            progress?.Invoke(copied);
        }
        if (batch.Count > 0)
        {
            await target.UpsertAsync(batch, ct);
            copied += batch.Count;
            progress?.Invoke(copied);
        }
        return copied;
    }
}
