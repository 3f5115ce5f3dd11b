using LeakHunter.Index.Vectors;

namespace LeakHunter.Index.Tests;

public sealed class VectorIndexTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "lh-vec-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        try { Directory.Delete(_dir, true); } catch (IOException) { }
    }

    internal static float[] RandomVector(Random rng, int dim)
    {
        var v = new float[dim];
        for (var i = 0; i < dim; i++) v[i] = (float)(rng.NextDouble() * 2 - 1);
        return v;
    }

    /// <summary>Clustered vectors, like windows of one original and its near copies.</summary>
    internal static List<float[]> Clustered(Random rng, int count, int dim, int perCluster, float noise)
    {
        var list = new List<float[]>(count);
        float[] centre = [];
        for (var i = 0; i < count; i++)
        {
            if (i % perCluster == 0) centre = VectorMath.Normalized(RandomVector(rng, dim));
            var n = RandomVector(rng, dim);
            var v = new float[dim];
            for (var j = 0; j < dim; j++) v[j] = centre[j] + noise * n[j];
            list.Add(v);
        }
        return list;
    }

    private static VectorRecord Rec(ulong id, float[] v, string original = "o1", string window = "full", ulong? ph = null, ulong[]? pdq = null) =>
        new(id, v, new VectorPayload(original, window), ph, pdq);

    private VectorIndexOptions Options(int dim = 32, int exact = 20_000) =>
        new() { Dimension = dim, ExactThreshold = exact, Fsync = false };

    [Fact]
    public async Task Finds_the_nearest_vector_and_survives_reopening()
    {
        var rng = new Random(1);
        var vectors = Enumerable.Range(0, 500).Select(_ => RandomVector(rng, 32)).ToList();
        using (var index = EmbeddedVectorIndex.Open(_dir, Options()))
        {
            await index.UpsertAsync(vectors.Select((v, i) => Rec((ulong)i, v, "o" + (i % 50), "w" + (i % 3))).ToList());
            Assert.Equal(500, await index.CountAsync());
        }
        using (var index = EmbeddedVectorIndex.Open(_dir, Options()))
        {
            Assert.Equal(500, await index.CountAsync());
            var hits = await index.SearchAsync(vectors[123], 5);
            Assert.Equal(123UL, hits[0].Id);
            Assert.Equal(new VectorPayload("o23", "w0"), hits[0].Payload);
            Assert.InRange(hits[0].Score, 0.999f, 1.001f);
            Assert.True(hits.Zip(hits.Skip(1)).All(p => p.First.Score >= p.Second.Score));
        }
    }

    [Fact]
    public async Task Filter_delete_and_replace()
    {
        var rng = new Random(2);
        using var index = EmbeddedVectorIndex.Open(_dir, Options());
        var a = RandomVector(rng, 32);
        await index.UpsertAsync([Rec(1, a, "o1"), Rec(2, RandomVector(rng, 32), "o2", "mirror"), Rec(3, RandomVector(rng, 32), "o3")]);
        var filtered = await index.SearchAsync(a, 10, new VectorFilter(["o2", "o3"]));
        Assert.Equal([2UL, 3UL], filtered.Select(h => h.Id).Order());
        Assert.Equal([2UL], (await index.SearchAsync(a, 10, new VectorFilter(Window: "mirror"))).Select(h => h.Id));
        await index.DeleteAsync([1, 99]);
        Assert.Equal(2, await index.CountAsync());
        Assert.DoesNotContain(await index.SearchAsync(a, 10), h => h.Id == 1);
        await index.UpsertAsync([Rec(2, a, "o9")]);
        var top = (await index.SearchAsync(a, 1))[0];
        Assert.Equal((2UL, "o9"), (top.Id, top.Payload.OriginalId));
        Assert.Equal(2, await index.CountAsync());
    }

    [Fact]
    public async Task Hash_search_through_the_index()
    {
        var rng = new Random(3);
        using (var index = EmbeddedVectorIndex.Open(_dir, Options()))
        {
            await index.UpsertAsync([
                Rec(1, RandomVector(rng, 32), "o1", ph: 0xF0F0UL, pdq: [1, 2, 3, 4]),
                Rec(2, RandomVector(rng, 32), "o2", ph: 0xF0F1UL, pdq: [~0UL, ~0UL, 0, 0]),
            ]);
        }
        using (var index = EmbeddedVectorIndex.Open(_dir, Options()))
        {
            var ph = await index.SearchHashAsync(HashKind.PHash, [0xF0F0UL], 2, 10);
            Assert.Equal([(1UL, 0f), (2UL, 1f)], ph.Select(h => (h.Id, h.Score)));
            var pdq = await index.SearchHashAsync(HashKind.Pdq, [1, 2, 3, 5], 31, 10);
            Assert.Equal([1UL], pdq.Select(h => h.Id));
            Assert.Equal("o1", pdq[0].Payload.OriginalId);
            var all = index.ReadAll().ToList();
            Assert.Equal(0xF0F1UL, all[1].PHash);
        }
    }

    [Fact]
    public async Task A_torn_write_is_cut_off_and_earlier_entries_survive()
    {
        var rng = new Random(4);
        using (var index = EmbeddedVectorIndex.Open(_dir, Options()))
            await index.UpsertAsync(Enumerable.Range(0, 10).Select(i => Rec((ulong)i, RandomVector(rng, 32))).ToList());
        var log = Path.Combine(_dir, "vectors.log");
        var good = new FileInfo(log).Length;
        using (var index = EmbeddedVectorIndex.Open(_dir, Options()))
            await index.UpsertAsync([Rec(10, RandomVector(rng, 32))]);
        // Simulate a crash in the middle of the last record, then garbage in a second case.
        using (var f = new FileStream(log, FileMode.Open)) f.SetLength(good + 37);
        using (var index = EmbeddedVectorIndex.Open(_dir, Options()))
        {
            Assert.Equal(10, await index.CountAsync());
            await index.UpsertAsync([Rec(11, RandomVector(rng, 32))]);
        }
        using (var f = new FileStream(log, FileMode.Append)) f.Write(new byte[] { 40, 0, 0, 0, 1, 2, 3, 4, 5, 6 });
        using (var index = EmbeddedVectorIndex.Open(_dir, Options()))
            Assert.Equal(11, await index.CountAsync());
        // A flipped byte inside a record: replay stops before it rather than returning a wrong vector.
        var bytes = File.ReadAllBytes(log);
        bytes[^20] ^= 0xFF;
        File.WriteAllBytes(log, bytes);
        using (var index = EmbeddedVectorIndex.Open(_dir, Options()))
            Assert.Equal(10, await index.CountAsync());
    }

    [Fact]
    public async Task Refuses_a_log_of_another_dimension_and_wrong_vectors()
    {
        using (var index = EmbeddedVectorIndex.Open(_dir, Options(32))) { }
        Assert.Throws<InvalidDataException>(() => EmbeddedVectorIndex.Open(_dir, Options(64)));
        using var again = EmbeddedVectorIndex.Open(_dir, Options(32));
        await Assert.ThrowsAsync<ArgumentException>(() => again.UpsertAsync([Rec(1, new float[5])]));
    }

    [Fact]
    public async Task Approximate_search_beyond_the_threshold_agrees_with_exact_search()
    {
        var rng = new Random(5);
        const int dim = 64;
        var vectors = Clustered(rng, 6000, dim, 30, 0.08f);
        using var index = EmbeddedVectorIndex.Open(_dir, Options(dim, exact: 2000));
        for (var b = 0; b < vectors.Count; b += 1000)
            await index.UpsertAsync(Enumerable.Range(b, 1000).Select(i => Rec((ulong)i, vectors[i], "o" + i / 30)).ToList());
        Assert.True(index.IsApproximate);
        double found = 0, total = 0;
        for (var q = 0; q < 50; q++)
        {
            var basis = vectors[rng.Next(vectors.Count)];
            var query = basis.Zip(RandomVector(rng, dim), (x, n) => x + 0.05f * n).ToArray();
            var exact = index.Search(query, 10, exact: true).Select(h => h.Id).ToHashSet();
            var approx = index.Search(query, 10).Select(h => h.Id);
            found += approx.Count(exact.Contains);
            total += 10;
        }
        Assert.True(found / total >= 0.95, $"recall@10 {found / total}");
        // Entries added after training land in lists too; reopening rebuilds the lists.
        var extra = VectorMath.Normalized(RandomVector(rng, dim));
        await index.UpsertAsync([Rec(100_000, extra, "new")]);
        Assert.Equal(100_000UL, index.Search(extra, 1)[0].Id);
        index.Dispose();
        using var reopened = EmbeddedVectorIndex.Open(_dir, Options(dim, exact: 2000));
        Assert.True(reopened.IsApproximate);
        Assert.Equal(100_000UL, reopened.Search(extra, 1)[0].Id);
    }

    [Fact]
    public async Task Factory_picks_the_configured_kind()
    {
        using var index = VectorIndexFactory.Create(new VectorIndexOptions { Kind = "embedded", Dimension = 8 }, _dir);
        Assert.IsType<EmbeddedVectorIndex>(index);
        Assert.Equal(0, await index.CountAsync());
        Assert.Throws<ArgumentException>(() => VectorIndexFactory.Create(new VectorIndexOptions { Kind = "faiss" }, _dir));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(15)]
    [InlineData(16)]
    [InlineData(33)]
    [InlineData(256)]
    [InlineData(300)]
    public void Int8_dot_product_equals_the_plain_sum_at_every_length(int length)
    {
        var rng = new Random(length);
        var query = new sbyte[length];
        var code = new sbyte[length];
        for (int i = 0; i < length; i++)
        {
            query[i] = (sbyte)rng.Next(-127, 128);
            code[i] = (sbyte)rng.Next(-127, 128);
        }
        query[0] = code[0] = -127; // the extremes of a quantised code
        int expected = 0;
        for (int i = 0; i < length; i++) expected += query[i] * code[i];
        Assert.Equal(expected, VectorMath.DotInt8(VectorMath.Widen(query), code));
    }

    [Theory]
    [InlineData(1, 256)]
    [InlineData(7, 33)]
    [InlineData(40, 256)]
    public void A_list_of_codes_gets_each_codes_dot_product(int count, int dimension)
    {
        var rng = new Random(count * 1000 + dimension);
        var query = new sbyte[dimension];
        var codes = new sbyte[(count + 2) * dimension]; // a list's array has room to grow: entries past count are not scored
        rng.NextBytes(System.Runtime.InteropServices.MemoryMarshal.AsBytes(query.AsSpan()));
        rng.NextBytes(System.Runtime.InteropServices.MemoryMarshal.AsBytes(codes.AsSpan()));
        var dots = Enumerable.Repeat(int.MinValue, count + 2).ToArray();
        var widened = VectorMath.Widen(query);
        VectorMath.DotInt8(widened, codes, count, dots);
        for (int i = 0; i < count; i++)
            Assert.Equal(VectorMath.DotInt8(widened, codes.AsSpan(i * dimension, dimension)), dots[i]);
        Assert.All(dots.Skip(count), d => Assert.Equal(int.MinValue, d));
    }
}
