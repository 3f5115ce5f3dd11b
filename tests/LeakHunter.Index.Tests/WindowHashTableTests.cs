using LeakHunter.Index.Hashing;
using LeakHunter.Index.Matching;

namespace LeakHunter.Index.Tests;

public class WindowHashTableTests
{
    /// <summary>
    /// Every slot within reach, with its nearest window, for the query and its mirror, exactly as hash-by-hash
    /// distances give them: whatever the table's layout and however many windows the last step of eight leaves.
    /// </summary>
    [Theory]
    [InlineData(1, 3)]
    [InlineData(40, 51)]
    [InlineData(333, 7)]
    public void Nearest_finds_each_slot_within_reach_at_its_nearest_window(int slots, int windowsPerSlot)
    {
        var rng = new Random(slots * 100 + windowsPerSlot);
        Hash256 Random() => new((ulong)rng.NextInt64() ^ ((ulong)rng.Next() << 63), (ulong)rng.NextInt64(), (ulong)rng.NextInt64(), (ulong)rng.NextInt64() ^ ((ulong)rng.Next() << 63));
        var query = Random();
        var mirror = Random();
        // Flips n random bits: windows near the query, near its mirror, and unrelated ones.
        Hash256 Near(Hash256 h, int n)
        {
            var words = new[] { h.A, h.B, h.C, h.D };
            for (int i = 0; i < n; i++)
            {
                int bit = rng.Next(256);
                words[bit / 64] ^= 1UL << (bit % 64);
            }
            return new Hash256(words[0], words[1], words[2], words[3]);
        }
        var table = new WindowHashTable();
        var all = new List<(int Slot, Hash256 Hash)>();
        for (int slot = 0; slot < slots; slot++)
        {
            var windows = Enumerable.Range(0, windowsPerSlot).Select(_ => rng.Next(4) switch
            {
                0 => Near(query, rng.Next(100)),
                1 => Near(mirror, rng.Next(100)),
                _ => Random(),
            }).ToList();
            if (slot == 0)
                windows[0] = Near(query, 5); // at least one slot within reach
            table.Add(slot, windows);
            all.AddRange(windows.Select(w => (slot, w)));
        }
        const int reach = 80;
        Dictionary<int, int> Expected(Hash256 q) => all
            .Select(w => (w.Slot, Distance: w.Hash.Distance(q)))
            .Where(w => w.Distance <= reach)
            .GroupBy(w => w.Slot)
            .ToDictionary(g => g.Key, g => g.Min(w => w.Distance));

        var (near, nearMirror) = table.Nearest(query, mirror, reach);

        Assert.Equal(Expected(query).OrderBy(kv => kv.Key), near.OrderBy(kv => kv.Key));
        Assert.Equal(Expected(mirror).OrderBy(kv => kv.Key), nearMirror.OrderBy(kv => kv.Key));
    }
}
