using System.Text.Json;
using System.Text.Json.Nodes;
using LeakHunter.Index.Vectors;

namespace LeakHunter.Index.Tests;

/// <summary>
/// The Qdrant backend against a live server when QDRANT_URL is set, otherwise against
/// <see cref="QdrantFake"/>; in both cases every request and response is checked against
/// Qdrant's OpenAPI document.
/// </summary>
public sealed class QdrantVectorIndexTests : IAsyncLifetime
{
    private QdrantFake? _fake;
    private QdrantSchemaCheckingHandler _checker = null!;
    private HttpClient _http = null!;
    private readonly string _collection = "lh_test_" + Guid.NewGuid().ToString("N")[..12];

    public async Task InitializeAsync()
    {
        var live = Environment.GetEnvironmentVariable("QDRANT_URL");
        Uri address;
        if (string.IsNullOrEmpty(live))
        {
            _fake = await QdrantFake.StartAsync();
            address = _fake.Address;
        }
        else address = new Uri(live.TrimEnd('/') + "/");
        _checker = new QdrantSchemaCheckingHandler(new HttpClientHandler());
        _http = new HttpClient(_checker) { BaseAddress = address };
    }

    public async Task DisposeAsync()
    {
        try
        {
            using var index = await Open();
            await index.DropCollectionAsync();
        }
        catch (HttpRequestException) { }
        if (_fake != null) foreach (var e in _fake.Errors) Console.Error.WriteLine(e);
        _http.Dispose();
        if (_fake != null) await _fake.DisposeAsync();
    }

    private Task<QdrantVectorIndex> Open(int dim = 16, int batch = 3) =>
        QdrantVectorIndex.CreateAsync(new VectorIndexOptions { Kind = "qdrant", Dimension = dim, Collection = _collection, BatchSize = batch }, _http);

    private void AssertSchemaClean()
    {
        if (_fake != null) Assert.DoesNotContain(_fake.Errors, e => e.StartsWith("fake crashed", StringComparison.Ordinal));
        Assert.Empty(_checker.Errors);
        if (_fake != null) Assert.Empty(_fake.Errors);
    }

    [Fact]
    public async Task Create_upsert_in_batches_search_with_filter_hashes_delete_count()
    {
        var rng = new Random(11);
        using var index = await Open();
        var vectors = Enumerable.Range(0, 10).Select(_ => VectorIndexTests.RandomVector(rng, 16)).ToList();
        await index.UpsertAsync(vectors.Select((v, i) => new VectorRecord((ulong)i + 1, v,
            new VectorPayload("o" + (i % 4), i % 2 == 0 ? "full" : "mirror"),
            PHash: 0xFFUL << i, Pdq: i == 3 ? [1, 2, 3, 4] : null)).ToList());
        Assert.Equal(4, _checker.Calls.Count(c => c.EndsWith("/points", StringComparison.Ordinal))); // 10 points in batches of 3
        Assert.Equal(10, await index.CountAsync());

        var hits = await index.SearchAsync(vectors[5], 3);
        Assert.Equal(6UL, hits[0].Id);
        Assert.Equal(new VectorPayload("o1", "mirror"), hits[0].Payload);
        Assert.InRange(hits[0].Score, 0.99f, 1.01f);

        var filtered = await index.SearchAsync(vectors[5], 10, new VectorFilter(["o2", "o3"], "full"));
        Assert.All(filtered, h => Assert.Contains(h.Payload.OriginalId, new[] { "o2", "o3" }));
        Assert.All(filtered, h => Assert.Equal("full", h.Payload.Window));
        Assert.Equal([3UL, 7UL], filtered.Select(h => h.Id).Order()); // i = 2 and 6

        var ph = await index.SearchHashAsync(HashKind.PHash, [0xFFUL << 4], 2, 10);
        Assert.Equal((5UL, 0f), (ph[0].Id, ph[0].Score));
        Assert.Equal([5UL, 4UL, 6UL], ph.Select(h => h.Id)); // neighbours differ by 2 bits
        var pdq = await index.SearchHashAsync(HashKind.Pdq, [1, 2, 3, 5], 31, 10);
        Assert.Equal([(4UL, 1f)], pdq.Select(h => (h.Id, h.Score)));

        await index.DeleteAsync([1, 2, 3]);
        Assert.Equal(7, await index.CountAsync());
        Assert.DoesNotContain(await index.SearchAsync(vectors[0], 10), h => h.Id <= 3);
        AssertSchemaClean();
    }

    [Fact]
    public async Task Opening_an_existing_collection_keeps_its_points()
    {
        var rng = new Random(12);
        using (var index = await Open())
            await index.UpsertAsync([new VectorRecord(42, VectorIndexTests.RandomVector(rng, 16), new VectorPayload("o", "full"))]);
        using (var again = await Open())
            Assert.Equal(1, await again.CountAsync());
        Assert.Equal(1, _checker.Calls.Count(c => c == $"PUT /collections/{_collection}"));
        AssertSchemaClean();
    }

    [Fact]
    public async Task Migrates_an_embedded_index()
    {
        var dir = Path.Combine(Path.GetTempPath(), "lh-mig-" + Guid.NewGuid().ToString("N"));
        try
        {
            var rng = new Random(13);
            using var embedded = EmbeddedVectorIndex.Open(dir, new VectorIndexOptions { Dimension = 16, Fsync = false });
            await embedded.UpsertAsync(Enumerable.Range(0, 25).Select(i => new VectorRecord((ulong)i, VectorIndexTests.RandomVector(rng, 16),
                new VectorPayload("o" + i, "full"), PHash: (ulong)i * 977, Pdq: [(ulong)i, 0, 0, 0])).ToList());
            await embedded.DeleteAsync([0]);
            using var qdrant = await Open(batch: 10);
            Assert.Equal(24, await VectorIndexMigration.CopyAsync(embedded, qdrant, 10));
            Assert.Equal(24, await qdrant.CountAsync());
            var probe = embedded.ReadAll().First(r => r.Id == 7);
            Assert.Equal(7UL, (await qdrant.SearchAsync(probe.Vector, 1))[0].Id);
            Assert.Equal(7UL, (await qdrant.SearchHashAsync(HashKind.PHash, [7UL * 977], 0, 1))[0].Id);
            AssertSchemaClean();
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public async Task Server_errors_surface_with_qdrants_message()
    {
        using var index = await Open();
        var e = await Assert.ThrowsAsync<ArgumentException>(() => index.UpsertAsync([new VectorRecord(1, new float[3], new VectorPayload("o", "w"))]));
        Assert.Contains("dimensions", e.Message);
    }
}

/// <summary>The schema checker itself must catch what it is there to catch.</summary>
public class QdrantSchemaTests
{
    private static List<string> Request(string method, string path, string json) =>
        QdrantSchema.Load().ValidateRequest(method, path, JsonNode.Parse(json));

    [Fact]
    public void Accepts_well_formed_requests()
    {
        Assert.Empty(Request("PUT", "/collections/c", """{"vectors":{"e":{"size":4,"distance":"Cosine"},"h":{"size":64,"distance":"Manhattan"}}}"""));
        Assert.Empty(Request("PUT", "/collections/c/points", """{"points":[{"id":1,"vector":{"e":[0.1,0.2,0.3,0.4]},"payload":{"original_id":"o"}}]}"""));
        Assert.Empty(Request("POST", "/collections/c/points/query", """{"query":[0.1,0.2],"using":"e","limit":3,"with_payload":true,"filter":{"must":[{"key":"original_id","match":{"any":["a"]}}]}}"""));
        Assert.Empty(Request("POST", "/collections/c/points/delete", """{"points":[1,2]}"""));
    }

    [Theory]
    [InlineData("PUT", "/collections/c", """{"vectors":{"e":{"size":4,"distance":"Hamming"}}}""")]          // no such distance
    [InlineData("PUT", "/collections/c", """{"vectors":{"e":{"size":-4,"distance":"Cosine"}}}""")]          // negative size
    [InlineData("PUT", "/collections/c/points", """{"points":[{"id":1.5,"vector":[1]}]}""")]                 // fractional id
    [InlineData("PUT", "/collections/c/points", """{"points":[{"id":1,"vector":"abc"}]}""")]                 // vector not a vector
    [InlineData("PUT", "/collections/c/points", """{"pionts":[]}""")]                                          // misspelt
    [InlineData("POST", "/collections/c/points/query", """{"query":[0.1],"limit":-1}""")]                      // negative limit
    [InlineData("POST", "/collections/c/points/query", """{"query":[0.1],"filter":{"must":[{"key":"k","match":{"anyy":["a"]}}]}}""")]
    [InlineData("POST", "/collections/c/points/count", """{"exact":"yes"}""")]
    [InlineData("POST", "/collections/c/points/nothing", """{}""")]                                            // no such operation
    public void Rejects_malformed_requests(string method, string path, string json) =>
        Assert.NotEmpty(Request(method, path, json));

    [Fact]
    public void Checks_responses_too()
    {
        var schema = QdrantSchema.Load();
        Assert.Empty(schema.ValidateResponse("POST", "/collections/c/points/count", 200, JsonNode.Parse("""{"result":{"count":3},"status":"ok","time":0.1}""")));
        Assert.NotEmpty(schema.ValidateResponse("POST", "/collections/c/points/count", 200, JsonNode.Parse("""{"result":{"count":-3},"status":"ok","time":0.1}""")));
        Assert.NotEmpty(schema.ValidateResponse("POST", "/collections/c/points/query", 200, JsonNode.Parse("""{"result":{"points":[{"id":1,"score":"high","version":1}]},"status":"ok","time":0}""")));
        Assert.Empty(schema.ValidateResponse("POST", "/collections/c/points/query", 200, JsonNode.Parse("""{"result":{"points":[{"id":1,"score":0.5,"version":1,"payload":{"a":"b"}}]},"status":"ok","time":0}""")));
        _ = JsonSerializer.Serialize(1);
    }
}
