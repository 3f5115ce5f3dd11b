using System.Security.Cryptography;
using System.Text;
using LeakHunter.Index.Embedding;
using LeakHunter.Index.Vectors;
using OpenCvSharp;

namespace LeakHunter.Index.Matching;

/// <summary>
/// The matcher's third source of candidates (beside local-feature votes and PDQ windows): the
/// embedding model. Every original's <see cref="CopyWindows"/> (whole picture, crops down to a
/// quarter, and their mirrors) are embedded when it is registered and kept in an
/// <see cref="IVectorIndex"/> (embedded files or Qdrant); a query's embedding finds the originals
/// with the most similar windows. The model survives edits that change local features or hashes
/// (colour, heavy blur, a sticker over the detailed part); geometric verification still decides.
/// </summary>
public sealed class EmbeddingCandidates(OnnxEmbedder embedder, IVectorIndex index) : IDisposable
{
    /// <summary>
    /// Vector ids: an original owns a block of 64 consecutive ids (the first bytes of the SHA-256 of
    /// its id, low six bits cleared), one per window, so its entries can be deleted without a lookup.
    /// </summary>
    private const int WindowBits = 6;

    public IVectorIndex Index => index;

    /// <summary>Identifies the model the stored embeddings come from (they are stale under another).</summary>
    public string ModelId { get; } = $"{embedder.Manifest.Name}/{embedder.Manifest.Dimension}";

    /// <summary>Embeddings of an original's windows (its picture in the matcher's normalised frame).</summary>
    internal float[][] EmbedWindows(Mat normalisedBgr)
    {
        var windows = CopyWindows.Default;
        var cuts = windows.Select(w => w.Cut(normalisedBgr)).ToList();
        try { return embedder.EmbedBatch(cuts); }
        finally { cuts.ForEach(c => c.Dispose()); }
    }

    internal float[] EmbedQuery(Mat bgr) => embedder.Embed(bgr);

    /// <summary>Stores (or replaces) the window embeddings of many originals at once.</summary>
    internal void Add(IEnumerable<(string OriginalId, float[][] Windows)> originals)
    {
        var windows = CopyWindows.Default;
        var records = new List<VectorRecord>();
        foreach (var (id, vectors) in originals)
        {
            ulong block = IdBlock(id);
            for (int w = 0; w < vectors.Length && w < windows.Count; w++)
                records.Add(new VectorRecord(block | (uint)w, vectors[w], new VectorPayload(id, windows[w].Name)));
        }
        if (records.Count > 0)
            index.UpsertAsync(records).GetAwaiter().GetResult();
    }

    internal void Remove(string originalId)
    {
        ulong block = IdBlock(originalId);
        index.DeleteAsync(Enumerable.Range(0, CopyWindows.Default.Count).Select(w => block | (uint)w).ToArray()).GetAwaiter().GetResult();
    }

    internal long Count => index.CountAsync().GetAwaiter().GetResult();

    /// <summary>
    /// The originals whose windows are nearest to the query, best first: per original (and
    /// orientation: a mirrored window means a mirrored copy) the highest cosine similarity.
    /// </summary>
    internal IReadOnlyList<(string OriginalId, bool Mirror, float Similarity)> Search(float[] query, int originals, Func<string, bool> isEligible)
    {
        // Each original has several windows near a copy, so ask for more entries than originals wanted.
        var hits = index.SearchAsync(query, originals * 8).GetAwaiter().GetResult();
        return hits
            .Where(h => isEligible(h.Payload.OriginalId))
            .GroupBy(h => (h.Payload.OriginalId, Mirror: h.Payload.Window.EndsWith(",m", StringComparison.Ordinal)))
            .Select(g => (g.Key.OriginalId, g.Key.Mirror, Similarity: g.Max(h => h.Score)))
            .OrderByDescending(c => c.Similarity)
            .Take(originals)
            .ToList();
    }

    /// <summary>The first vector id of an original's block; window w has id block | w.</summary>
    private static ulong IdBlock(string originalId) =>
        BitConverter.ToUInt64(SHA256.HashData(Encoding.UTF8.GetBytes(originalId)), 0) & ~((1UL << WindowBits) - 1);

    public void Dispose() => index.Dispose();
}
