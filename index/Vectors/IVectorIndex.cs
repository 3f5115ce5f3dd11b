namespace LeakHunter.Index.Vectors;

/// <summary>What a vector entry points at: the registered original and which window of it.</summary>
/// <param name="OriginalId">Id of the registered original.</param>
/// <param name="Window">The sub-window of the original the entry describes (e.g. "full", "mirror",
/// or "x,y,w,h" in relative coordinates); free-form, chosen by the fingerprint code.</param>
public sealed record VectorPayload(string OriginalId, string Window);

/// <summary>
/// One entry: an embedding plus (optionally) the perceptual hashes of the same window, so a backend
/// that stores everything together (Qdrant's named vectors) can serve both kinds of candidate search.
/// </summary>
public sealed record VectorRecord(ulong Id, float[] Vector, VectorPayload Payload, ulong? PHash = null, ulong[]? Pdq = null);

/// <summary>A search result: Score is cosine similarity for embeddings (higher is nearer) and
/// Hamming distance for hashes (lower is nearer).</summary>
public sealed record VectorHit(ulong Id, float Score, VectorPayload Payload);

/// <summary>Restricts a search to entries whose payload matches; null members do not restrict.</summary>
public sealed record VectorFilter(IReadOnlyCollection<string>? OriginalIds = null, string? Window = null)
{
    public bool Matches(VectorPayload p) =>
        (OriginalIds is null || OriginalIds.Contains(p.OriginalId)) && (Window is null || Window == p.Window);
}

/// <summary>Which perceptual hash a hash search uses.</summary>
public enum HashKind
{
    /// <summary>64-bit pHash.</summary>
    PHash,
    /// <summary>256-bit PDQ.</summary>
    Pdq,
}

/// <summary>
/// A similarity index of embeddings (cosine) and perceptual hashes (Hamming) of originals' windows.
/// Implementations: <see cref="EmbeddedVectorIndex"/> (files in the data directory) and
/// <see cref="QdrantVectorIndex"/> (Qdrant over REST); pick one with <see cref="VectorIndexFactory"/>.
/// Vectors are normalised by the index; callers may pass unnormalised ones.
/// </summary>
public interface IVectorIndex : IDisposable
{
    /// <summary>Embedding dimension.</summary>
    int Dimension { get; }

    /// <summary>Inserts or replaces entries (by id). When the task completes the entries are durable.</summary>
    Task UpsertAsync(IReadOnlyList<VectorRecord> records, CancellationToken ct = default);

    /// <summary>The k entries with the highest cosine similarity to vector, best first.</summary>
    Task<IReadOnlyList<VectorHit>> SearchAsync(float[] vector, int k, VectorFilter? filter = null, CancellationToken ct = default);

    /// <summary>Up to k entries whose hash of this kind lies within maxDistance bits, nearest first.</summary>
    Task<IReadOnlyList<VectorHit>> SearchHashAsync(HashKind kind, ulong[] hash, int maxDistance, int k, VectorFilter? filter = null, CancellationToken ct = default);

    /// <summary>Deletes entries by id (absent ids are ignored).</summary>
    Task DeleteAsync(IReadOnlyList<ulong> ids, CancellationToken ct = default);

    /// <summary>Number of entries.</summary>
    Task<long> CountAsync(CancellationToken ct = default);
}

/// <summary>Options of the vector index, bound from configuration section "Index".</summary>
public sealed class VectorIndexOptions
{
    public const string Section = "Index";

    /// <summary>"embedded" (default) or "qdrant".</summary>
    public string Kind { get; set; } = "embedded";

    /// <summary>Embedding dimension (must match the embedder's manifest).</summary>
    public int Dimension { get; set; } = 256;

    /// <summary>Directory of the embedded index (default: "vectors" under the data directory).</summary>
    public string? Directory { get; set; }

    /// <summary>Below this many entries the embedded index searches exhaustively (exact).</summary>
    public int ExactThreshold { get; set; } = 20_000;

    /// <summary>
    /// Inverted lists probed per query once the embedded index is approximate. The matcher looks for copies,
    /// whose windows lie far nearer the query than anything else: with 10 000 originals (380 000 windows,
    /// ~616 lists) 32 probes find the dev set's originals as often as 128 (736 of 750 copies matched either
    /// way) in a third of the time, which a query otherwise spends streaming codes from memory; 16 lost a copy under
    /// a sticker that only the embedding named (737 of 750 against 738 with 32) for half a millisecond less. For general
    /// nearest-neighbour search raise it: 128 of the ~1000 lists at a million entries gives recall@10 0.994
    /// (48 gave 0.953; `leakhunter bench index --probes`).
    /// </summary>
    public int Probes { get; set; } = 32;

    /// <summary>fsync the log on every upsert/delete batch (crash-safe against power loss, not just process death).</summary>
    public bool Fsync { get; set; } = true;

    /// <summary>Base URL of Qdrant's REST API, e.g. http://localhost:6333.</summary>
    public string QdrantUrl { get; set; } = "http://localhost:6333";

    /// <summary>Qdrant collection name.</summary>
    public string Collection { get; set; } = "leakhunter";

    /// <summary>Optional Qdrant API key (sent as the api-key header).</summary>
    public string? QdrantApiKey { get; set; }

    /// <summary>Points per upsert request to Qdrant.</summary>
    public int BatchSize { get; set; } = 256;
}

/// <summary>Creates the configured index.</summary>
public static class VectorIndexFactory
{
    public static IVectorIndex Create(VectorIndexOptions options, string dataDirectory, HttpClient? http = null) =>
        options.Kind.ToLowerInvariant() switch
        {
            "embedded" => EmbeddedVectorIndex.Open(options.Directory ?? Path.Combine(dataDirectory, "vectors"), options),
            "qdrant" => QdrantVectorIndex.CreateAsync(options, http).GetAwaiter().GetResult(),
            _ => throw new ArgumentException($"Index:Kind must be \"embedded\" or \"qdrant\", not \"{options.Kind}\""),
        };
}
