using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace LeakHunter.Index.Vectors;

/// <summary>
/// Vector index in a Qdrant collection, over Qdrant's REST API (HttpClient; the Qdrant.Client
/// package is not available). The collection has three named vectors: "embedding" (cosine,
/// <see cref="IVectorIndex.Dimension"/> dims), "phash" (64 dims) and "pdq" (256 dims), the hashes
/// stored as 0/1 vectors under Manhattan distance, which equals Hamming distance. Payload:
/// "original_id" (keyword-indexed, for filters) and "window".
/// </summary>
public sealed class QdrantVectorIndex : IVectorIndex
{
    public const string EmbeddingVector = "embedding", PHashVector = "phash", PdqVector = "pdq";
    public const string OriginalIdField = "original_id", WindowField = "window";

    private readonly HttpClient _http;
    private readonly bool _ownsHttp;
    private readonly string _collection;
    private readonly int _batchSize;

    private QdrantVectorIndex(HttpClient http, bool ownsHttp, string collection, int dimension, int batchSize)
    {
        _http = http;
        _ownsHttp = ownsHttp;
        _collection = Uri.EscapeDataString(collection);
        Dimension = dimension;
        _batchSize = Math.Max(1, batchSize);
    }

    public int Dimension { get; }

    /// <summary>
    /// Connects to Qdrant and creates the collection (with its named vectors and payload index) when
    /// it does not exist yet. When http is given its BaseAddress is used; otherwise options.QdrantUrl.
    /// </summary>
    public static async Task<QdrantVectorIndex> CreateAsync(VectorIndexOptions options, HttpClient? http = null, CancellationToken ct = default)
    {
        var owns = http == null;
        http ??= new HttpClient { BaseAddress = new Uri(options.QdrantUrl.TrimEnd('/') + "/"), Timeout = TimeSpan.FromSeconds(60) };
        if (http.BaseAddress == null) throw new ArgumentException("the HttpClient needs a BaseAddress (Qdrant's URL)");
        if (!string.IsNullOrEmpty(options.QdrantApiKey) && !http.DefaultRequestHeaders.Contains("api-key"))
            http.DefaultRequestHeaders.Add("api-key", options.QdrantApiKey);
        var index = new QdrantVectorIndex(http, owns, options.Collection, options.Dimension, options.BatchSize);
        await index.EnsureCollectionAsync(ct);
        return index;
    }

    private async Task EnsureCollectionAsync(CancellationToken ct)
    {
        var exists = await SendAsync(HttpMethod.Get, $"collections/{_collection}/exists", null, ct);
        if (exists["result"]?["exists"]?.GetValue<bool>() == true) return;
        var body = new JsonObject
        {
            ["vectors"] = new JsonObject
            {
                [EmbeddingVector] = new JsonObject { ["size"] = Dimension, ["distance"] = "Cosine" },
                [PHashVector] = new JsonObject { ["size"] = 64, ["distance"] = "Manhattan" },
                [PdqVector] = new JsonObject { ["size"] = 256, ["distance"] = "Manhattan" },
            },
        };
        await SendAsync(HttpMethod.Put, $"collections/{_collection}", body, ct);
        await SendAsync(HttpMethod.Put, $"collections/{_collection}/index?wait=true",
            new JsonObject { ["field_name"] = OriginalIdField, ["field_schema"] = "keyword" }, ct);
    }

    public async Task UpsertAsync(IReadOnlyList<VectorRecord> records, CancellationToken ct = default)
    {
        for (var start = 0; start < records.Count; start += _batchSize)
        {
            var points = new JsonArray();
            foreach (var r in records.Skip(start).Take(_batchSize))
            {
                if (r.Vector.Length != Dimension)
                    throw new ArgumentException($"vector of id {r.Id} has {r.Vector.Length} dimensions, the index {Dimension}");
                var vectors = new JsonObject { [EmbeddingVector] = ToArray(r.Vector) };
                if (r.PHash is { } ph) vectors[PHashVector] = Bits([ph]);
                if (r.Pdq is { } pdq)
                {
                    if (pdq.Length != 4) throw new ArgumentException($"PDQ hash of id {r.Id} must be 4 words (256 bits)");
                    vectors[PdqVector] = Bits(pdq);
                }
                points.Add(new JsonObject
                {
                    ["id"] = r.Id,
                    ["vector"] = vectors,
                    ["payload"] = new JsonObject { [OriginalIdField] = r.Payload.OriginalId, [WindowField] = r.Payload.Window },
                });
            }
            await SendAsync(HttpMethod.Put, $"collections/{_collection}/points?wait=true", new JsonObject { ["points"] = points }, ct);
        }
    }

    public async Task<IReadOnlyList<VectorHit>> SearchAsync(float[] vector, int k, VectorFilter? filter = null, CancellationToken ct = default)
    {
        if (vector.Length != Dimension) throw new ArgumentException($"query has {vector.Length} dimensions, the index {Dimension}");
        return await QueryAsync(ToArray(vector), EmbeddingVector, k, filter, null, ct);
    }

    public async Task<IReadOnlyList<VectorHit>> SearchHashAsync(HashKind kind, ulong[] hash, int maxDistance, int k, VectorFilter? filter = null, CancellationToken ct = default)
    {
        var expected = kind == HashKind.PHash ? 1 : 4;
        if (hash.Length != expected) throw new ArgumentException($"{kind} hash must be {expected * 64} bits");
        var hits = await QueryAsync(Bits(hash), kind == HashKind.PHash ? PHashVector : PdqVector, k, filter, maxDistance, ct);
        // Manhattan distance between 0/1 vectors is the Hamming distance; keep only those within range.
        return hits.Where(h => h.Score <= maxDistance + 1e-3f).Select(h => h with { Score = MathF.Round(h.Score) }).ToList();
    }

    private async Task<IReadOnlyList<VectorHit>> QueryAsync(JsonArray query, string vectorName, int k, VectorFilter? filter, float? scoreThreshold, CancellationToken ct)
    {
        if (k <= 0) return [];
        var body = new JsonObject
        {
            ["query"] = query,
            ["using"] = vectorName,
            ["limit"] = k,
            ["with_payload"] = true,
        };
        if (ToFilter(filter) is { } f) body["filter"] = f;
        if (scoreThreshold is { } t) body["score_threshold"] = t;
        var response = await SendAsync(HttpMethod.Post, $"collections/{_collection}/points/query", body, ct);
        var points = response["result"]?["points"]?.AsArray() ?? throw new InvalidDataException("Qdrant query response without result.points");
        var hits = new List<VectorHit>(points.Count);
        foreach (var p in points)
        {
            var id = p!["id"]!.GetValueKind() == JsonValueKind.Number
                ? p["id"]!.GetValue<ulong>()
                : throw new InvalidDataException($"point id {p["id"]} is not an integer id written by LeakHunter");
            var payload = p["payload"] as JsonObject;
            hits.Add(new VectorHit(id, p["score"]!.GetValue<float>(), new VectorPayload(
                payload?[OriginalIdField]?.GetValue<string>() ?? "",
                payload?[WindowField]?.GetValue<string>() ?? "")));
        }
        return hits;
    }

    private static JsonObject? ToFilter(VectorFilter? filter)
    {
        if (filter == null) return null;
        var must = new JsonArray();
        if (filter.OriginalIds is { } ids)
            must.Add(new JsonObject { ["key"] = OriginalIdField, ["match"] = new JsonObject { ["any"] = new JsonArray(ids.Select(i => (JsonNode)JsonValue.Create(i)!).ToArray()) } });
        if (filter.Window is { } w)
            must.Add(new JsonObject { ["key"] = WindowField, ["match"] = new JsonObject { ["value"] = w } });
        return must.Count == 0 ? null : new JsonObject { ["must"] = must };
    }

    public async Task DeleteAsync(IReadOnlyList<ulong> ids, CancellationToken ct = default)
    {
        for (var start = 0; start < ids.Count; start += 1000)
        {
            var points = new JsonArray(ids.Skip(start).Take(1000).Select(i => (JsonNode)JsonValue.Create(i)).ToArray());
            await SendAsync(HttpMethod.Post, $"collections/{_collection}/points/delete?wait=true", new JsonObject { ["points"] = points }, ct);
        }
    }

    public async Task<long> CountAsync(CancellationToken ct = default)
    {
        var r = await SendAsync(HttpMethod.Post, $"collections/{_collection}/points/count", new JsonObject { ["exact"] = true }, ct);
        return r["result"]?["count"]?.GetValue<long>() ?? throw new InvalidDataException("Qdrant count response without result.count");
    }

    /// <summary>Drops the collection (tests and re-migration).</summary>
    public async Task DropCollectionAsync(CancellationToken ct = default) =>
        await SendAsync(HttpMethod.Delete, $"collections/{_collection}", null, ct);

    private async Task<JsonNode> SendAsync(HttpMethod method, string path, JsonNode? body, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body != null) request.Content = JsonContent.Create(body);
        using var response = await _http.SendAsync(request, ct);
        var text = await response.Content.ReadAsStringAsync(ct);
        if (!response.IsSuccessStatusCode)
        {
            string? detail = null;
            try { detail = JsonNode.Parse(text)?["status"]?["error"]?.GetValue<string>(); } catch (JsonException) { }
            throw new HttpRequestException($"Qdrant {method} {path}: {(int)response.StatusCode} {detail ?? text}", null, response.StatusCode);
        }
        return JsonNode.Parse(text) ?? throw new InvalidDataException($"Qdrant {method} {path}: empty response");
    }

    private static JsonArray ToArray(float[] v) => new(v.Select(x => (JsonNode)JsonValue.Create(x)).ToArray());

    /// <summary>A hash as a 0/1 vector, bit i of word w at position 64w + i.</summary>
    public static JsonArray Bits(ulong[] hash)
    {
        var a = new JsonArray();
        foreach (var w in hash)
            for (var i = 0; i < 64; i++) a.Add((float)((w >> i) & 1));
        return a;
    }

    public void Dispose()
    {
        if (_ownsHttp) _http.Dispose();
    }
}
