using System.Numerics;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using LeakHunter.Index.Hashing;

namespace LeakHunter.Index.Matching;

/// <summary>
/// The PDQ hashes of every original's windows, the owner's slot beside each, scanned linearly: at ten thousand
/// originals that is half a million hashes. They are kept as four planes (word k of every hash in plane k), so
/// that <see cref="PopCount256"/> compares eight hashes per step where the processor allows it: half the
/// scalar loop's time at ten thousand originals, where streaming the 17 MB from memory is then most of it.
/// (Walking each original's own arrays cost ten times more than the scalar loop.)
/// Slots are the matcher's (shared with <see cref="DescriptorIndex"/>). Not thread-safe; the matcher locks.
/// </summary>
internal sealed class WindowHashTable
{
    private ulong[][] _planes = [new ulong[1024], new ulong[1024], new ulong[1024], new ulong[1024]];
    private int[] _slot = new int[1024];
    private int _count;

    public int Count => _count;

    public void Add(int slot, IReadOnlyList<Hash256> hashes)
    {
        if (_count + hashes.Count > _slot.Length)
        {
            int capacity = Math.Max(_count + hashes.Count, _slot.Length * 2);
            Array.Resize(ref _slot, capacity);
            foreach (ref var plane in _planes.AsSpan())
                Array.Resize(ref plane, capacity);
        }
        foreach (var h in hashes)
        {
            _planes[0][_count] = h.A;
            _planes[1][_count] = h.B;
            _planes[2][_count] = h.C;
            _planes[3][_count] = h.D;
            _slot[_count++] = slot;
        }
    }

    /// <summary>
    /// Per slot, the smallest distance of any of its windows to <paramref name="query"/> and to <paramref name="mirror"/>
    /// (the query's mirror image), for slots within <paramref name="maxDistance"/>: one pass for both, so that each
    /// window is read once.
    /// </summary>
    public (Dictionary<int, int> Query, Dictionary<int, int> Mirror) Nearest(Hash256 query, Hash256 mirror, int maxDistance)
    {
        var best = new Dictionary<int, int>();
        var bestMirror = new Dictionary<int, int>();
        int i = 0;
        if (PopCount256.IsSupported)
            i = NearestVectorised(query, mirror, maxDistance, best, bestMirror);
        for (; i < _count; i++)
        {
            var window = new Hash256(_planes[0][i], _planes[1][i], _planes[2][i], _planes[3][i]);
            if (window.Distance(query) is var distance && distance <= maxDistance)
                KeepSmaller(best, _slot[i], distance);
            if (window.Distance(mirror) is var mirrorDistance && mirrorDistance <= maxDistance)
                KeepSmaller(bestMirror, _slot[i], mirrorDistance);
        }
        return (best, bestMirror);
    }

    /// <summary>Eight windows per step (see <see cref="PopCount256"/>); returns how many windows it compared.</summary>
    private int NearestVectorised(Hash256 query, Hash256 mirror, int maxDistance, Dictionary<int, int> best, Dictionary<int, int> bestMirror)
    {
        var q = new PopCount256.Query(query.A, query.B, query.C, query.D);
        var m = new PopCount256.Query(mirror.A, mirror.B, mirror.C, mirror.D);
        var limit = Vector512.Create((ulong)maxDistance);
        ref ulong a = ref MemoryMarshal.GetArrayDataReference(_planes[0]);
        ref ulong b = ref MemoryMarshal.GetArrayDataReference(_planes[1]);
        ref ulong c = ref MemoryMarshal.GetArrayDataReference(_planes[2]);
        ref ulong d = ref MemoryMarshal.GetArrayDataReference(_planes[3]);
        int end = _count & ~7;
        for (int i = 0; i < end; i += 8)
        {
            var wa = Vector512.LoadUnsafe(ref a, (nuint)i);
            var wb = Vector512.LoadUnsafe(ref b, (nuint)i);
            var wc = Vector512.LoadUnsafe(ref c, (nuint)i);
            var wd = Vector512.LoadUnsafe(ref d, (nuint)i);
            var distances = PopCount256.Distances(q, wa, wb, wc, wd);
            var mirrorDistances = PopCount256.Distances(m, wa, wb, wc, wd);
            ulong near = Vector512.LessThanOrEqual(distances, limit).ExtractMostSignificantBits();
            ulong nearMirror = Vector512.LessThanOrEqual(mirrorDistances, limit).ExtractMostSignificantBits();
            if ((near | nearMirror) == 0)
                continue; // nearly always: unrelated windows are far
            for (; near != 0; near &= near - 1)
            {
                int lane = BitOperations.TrailingZeroCount(near);
                KeepSmaller(best, _slot[i + lane], (int)distances.GetElement(lane));
            }
            for (; nearMirror != 0; nearMirror &= nearMirror - 1)
            {
                int lane = BitOperations.TrailingZeroCount(nearMirror);
                KeepSmaller(bestMirror, _slot[i + lane], (int)mirrorDistances.GetElement(lane));
            }
        }
        return end;
    }

    private static void KeepSmaller(Dictionary<int, int> best, int slot, int distance)
    {
        if (!best.TryGetValue(slot, out int known) || distance < known)
            best[slot] = distance;
    }

    public long ApproximateBytes => _slot.Length * 36L;
}
