using System.Numerics;
using LeakHunter.Index.Hashing;

namespace LeakHunter.Index.Matching;

/// <summary>
/// The PDQ hashes of every original's windows in one flat array (four 64-bit words per hash, the
/// owner's slot beside it), scanned linearly: at ten thousand originals that is half a million
/// hashes, a few milliseconds of streaming popcounts, where walking each original's own arrays
/// cost ten times more. Slots are the matcher's (shared with <see cref="DescriptorIndex"/>).
/// Not thread-safe; the matcher locks.
/// </summary>
internal sealed class WindowHashTable
{
    private ulong[] _words = new ulong[4 * 1024];
    private int[] _slot = new int[1024];
    private int _count;

    public void Add(int slot, IReadOnlyList<Hash256> hashes)
    {
        if (_count + hashes.Count > _slot.Length)
        {
            int capacity = Math.Max(_count + hashes.Count, _slot.Length * 2);
            Array.Resize(ref _slot, capacity);
            Array.Resize(ref _words, capacity * 4);
        }
        foreach (var h in hashes)
        {
            _words[_count * 4] = h.A;
            _words[_count * 4 + 1] = h.B;
            _words[_count * 4 + 2] = h.C;
            _words[_count * 4 + 3] = h.D;
            _slot[_count++] = slot;
        }
    }

    /// <summary>
    /// Per slot, the smallest distance of any of its windows to <paramref name="query"/> and to <paramref name="mirror"/>
    /// (the query's mirror image), for slots within <paramref name="maxDistance"/>: one pass for both, so that each
    /// window is read once. (The scan is bound by the population counts, not by memory: skipping windows whose first
    /// half is already far measured no faster.)
    /// </summary>
    public (Dictionary<int, int> Query, Dictionary<int, int> Mirror) Nearest(Hash256 query, Hash256 mirror, int maxDistance)
    {
        var best = new Dictionary<int, int>();
        var bestMirror = new Dictionary<int, int>();
        var words = _words;
        for (int i = 0; i < _count; i++)
        {
            ulong a = words[i * 4], b = words[i * 4 + 1], c = words[i * 4 + 2], d = words[i * 4 + 3];
            int distance = BitOperations.PopCount(a ^ query.A) + BitOperations.PopCount(b ^ query.B)
                         + BitOperations.PopCount(c ^ query.C) + BitOperations.PopCount(d ^ query.D);
            int mirrorDistance = BitOperations.PopCount(a ^ mirror.A) + BitOperations.PopCount(b ^ mirror.B)
                               + BitOperations.PopCount(c ^ mirror.C) + BitOperations.PopCount(d ^ mirror.D);
            if (distance <= maxDistance)
                KeepSmaller(best, _slot[i], distance);
            if (mirrorDistance <= maxDistance)
                KeepSmaller(bestMirror, _slot[i], mirrorDistance);
        }
        return (best, bestMirror);
    }

    private static void KeepSmaller(Dictionary<int, int> best, int slot, int distance)
    {
        if (!best.TryGetValue(slot, out int known) || distance < known)
            best[slot] = distance;
    }

    public long ApproximateBytes => _slot.Length * 36L;
}
