using LeakHunter.Index.HashIndex;

namespace LeakHunter.Index.Tests;

public class HashIndexTests
{
    private static ulong[] RandomHash(Random rng, int words)
    {
        var h = new ulong[words];
        for (var i = 0; i < words; i++) h[i] = (ulong)rng.NextInt64() ^ ((ulong)rng.Next() << 63);
        return h;
    }

    private static ulong[] FlipBits(Random rng, ulong[] h, int count)
    {
        var r = (ulong[])h.Clone();
        var bits = Enumerable.Range(0, h.Length * 64).OrderBy(_ => rng.Next()).Take(count);
        foreach (var b in bits) r[b / 64] ^= 1UL << (b % 64);
        return r;
    }

    [Theory]
    [InlineData(256, 31)]
    [InlineData(256, 8)]
    [InlineData(64, 10)]
    [InlineData(64, 3)]
    [InlineData(64, 20)] // beyond the probe radius: exact fallback
    public void Multi_index_search_finds_exactly_what_a_linear_scan_finds(int bits, int radius)
    {
        var rng = new Random(bits * 100 + radius);
        var index = new HammingIndex(bits);
        var words = bits / 64;
        var stored = new List<ulong[]>();
        for (var i = 0; i < 20_000; i++)
        {
            var h = RandomHash(rng, words);
            stored.Add(h);
            index.Add(i, h);
        }
        // Near copies of stored hashes at distances around the radius.
        for (var q = 0; q < 50; q++)
        {
            var basis = stored[rng.Next(stored.Count)];
            var query = FlipBits(rng, basis, rng.Next(0, radius + 3));
            var fast = index.Search(query, radius);
            var exact = index.SearchExact(query, radius);
            Assert.Equal(exact, fast);
        }
    }

    [Fact]
    public void Finds_all_hashes_within_31_bits_of_a_pdq_query()
    {
        var rng = new Random(7);
        var index = new HammingIndex(256);
        for (var i = 0; i < 5_000; i++) index.Add(i, RandomHash(rng, 4));
        var query = RandomHash(rng, 4);
        for (var d = 0; d <= 31; d++) index.Add(100_000 + d, FlipBits(rng, query, d));
        var hits = index.Search(query, 31);
        var planted = hits.Where(h => h.Id >= 100_000).ToList();
        Assert.Equal(32, planted.Count);
        Assert.All(planted, h => Assert.Equal(h.Id - 100_000, h.Distance));
        Assert.Equal(0, hits[0].Distance);
    }

    [Fact]
    public void Remove_and_replace_are_honoured()
    {
        var index = new HammingIndex(64);
        index.Add(1, 0xFFFF_0000_FFFF_0000UL);
        index.Add(2, 0xFFFF_0000_FFFF_0001UL);
        Assert.Equal(2, index.Count);
        Assert.True(index.Remove(1));
        Assert.False(index.Remove(1));
        Assert.Equal([new HashHit(2, 1)], index.Search(0xFFFF_0000_FFFF_0000UL, 4));
        index.Add(2, 0x1234UL); // replace
        Assert.Empty(index.Search(0xFFFF_0000_FFFF_0000UL, 4));
        Assert.Equal([new HashHit(2, 0)], index.Search(0x1234UL, 0));
        Assert.Equal(1, index.Count);
    }

    [Fact]
    public void Wrong_hash_length_is_refused()
    {
        var index = new HammingIndex(256);
        Assert.Throws<ArgumentException>(() => index.Add(1, 5UL));
        Assert.Throws<ArgumentOutOfRangeException>(() => new HammingIndex(100));
    }
}
