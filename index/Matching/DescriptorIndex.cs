using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;

namespace LeakHunter.Index.Matching;

/// <summary>
/// Finds which registered originals share many local-feature descriptors with a query: a
/// multi-index hash over 16-bit substrings of the 256-bit ORB descriptors (a descriptor meets
/// its near neighbours when one substring is identical), each hit judged on 96 more bits of the
/// descriptor, one vote per query descriptor and original. Not thread-safe; the matcher locks.
/// <para>Layout, for speed at millions of descriptors: every bucket is one contiguous array of
/// (original's slot, 96 check bits taken from other parts of the descriptor), so a lookup streams
/// through memory and never leaves it: the full descriptors are not kept here (verification has them),
/// because reading one per close hit, scattered over hundreds of megabytes, cost more than all the
/// streaming. Appending to a bucket is amortised constant time, so registration never rebuilds anything.</para>
/// </summary>
internal sealed class DescriptorIndex
{
    private const int Tables = 8;
    private const int Buckets = 1 << 16;

    /// <summary>Bits of a descriptor compared for a hit besides the key: <see cref="Entry.Check"/> and <see cref="Entry.Check2"/>.</summary>
    public const int CheckBits = 96;

    [StructLayout(LayoutKind.Sequential)]
    private struct Entry
    {
        public int Slot;
        public uint Check2;
        public ulong Check;
    }

    private readonly Entry[][][] _buckets = new Entry[Tables][][];
    private readonly int[][] _bucketCount = new int[Tables][];

    private bool[] _slotAlive = new bool[64];
    private int[] _slotLength = new int[64];
    private int _slots;
    private int _count;
    private int _deadDescriptors;

    public DescriptorIndex()
    {
        for (int t = 0; t < Tables; t++)
        {
            _buckets[t] = new Entry[Buckets][];
            _bucketCount[t] = new int[Buckets];
        }
    }

    public int SlotCount => _slots;
    public int DescriptorCount => _count - _deadDescriptors;

    /// <summary>Table t's key: the t-th 16 bits of the descriptor (bytes 2t and 2t+1).</summary>
    private static int Key(ReadOnlySpan<ulong> d, int table) => (int)(d[table / 4] >> (16 * (table % 4))) & 0xFFFF;

    /// <summary>Table t's check bits: the next 64-bit word of the descriptor and half of the one after, which never hold the key's bits.</summary>
    private static ulong Check(ReadOnlySpan<ulong> d, int table) => d[(table / 4 + 1) % 4];
    private static uint Check2(ReadOnlySpan<ulong> d, int table) => (uint)(d[(table / 4 + 2) % 4] >> (32 * (table % 2)));

    /// <summary>Adds the descriptors of one original; returns its slot.</summary>
    public int Add(byte[] descriptors)
    {
        var words = MemoryMarshal.Cast<byte, ulong>(descriptors.AsSpan(0, descriptors.Length / FeatureSet.DescriptorBytes * FeatureSet.DescriptorBytes));
        int n = words.Length / 4;
        int slot = _slots++;
        if (slot == _slotAlive.Length)
        {
            Array.Resize(ref _slotAlive, slot * 2);
            Array.Resize(ref _slotLength, slot * 2);
        }
        _slotAlive[slot] = true;
        _slotLength[slot] = n;
        for (int i = 0; i < n; i++)
        {
            var d = words.Slice(i * 4, 4);
            for (int t = 0; t < Tables; t++)
            {
                int key = Key(d, t);
                ref var bucket = ref _buckets[t][key];
                int used = _bucketCount[t][key]++;
                if (bucket is null || used == bucket.Length)
                    Array.Resize(ref bucket, Math.Max(4, used + used / 2));
                bucket[used] = new Entry { Slot = slot, Check = Check(d, t), Check2 = Check2(d, t) };
            }
        }
        _count += n;
        return slot;
    }

    public void Remove(int slot)
    {
        if (slot < 0 || slot >= _slots || !_slotAlive[slot])
            return;
        _slotAlive[slot] = false;
        _deadDescriptors += _slotLength[slot];
    }

    /// <summary>True when more than half the stored descriptors belong to removed originals.</summary>
    public bool NeedsCompaction => _deadDescriptors > 4096 && _deadDescriptors * 2 > _count;

    /// <summary>
    /// Votes: for each query descriptor, every original holding a descriptor that shares a key with it and
    /// differs in at most <paramref name="maxCheckDistance"/> of the <see cref="CheckBits"/> check bits gets
    /// one vote. Returns the <paramref name="top"/> eligible slots with at least <paramref name="minVotes"/>,
    /// best first, ranked by votes over the square root of the slot's descriptor count: a detailed original
    /// collects chance votes from every query, and the root keeps a small one's real votes ahead of them.
    /// </summary>
    public List<(int Slot, int Votes, double Rank)> Vote(byte[] query, int maxCheckDistance, int minVotes, int top, Func<int, bool> isEligible)
    {
        var qw = MemoryMarshal.Cast<byte, ulong>(query.AsSpan(0, query.Length / FeatureSet.DescriptorBytes * FeatureSet.DescriptorBytes));
        int nq = qw.Length / 4;
        var votes = new int[_slots];
        var lastQuery = new int[_slots];
        Array.Fill(lastQuery, -1);
        // Buckets far above the average load hold descriptors of flat or repetitive patterns that
        // every picture has: they carry no evidence and would dominate the time, so they are skipped.
        int limit = Math.Max(64, 3 * _count / Buckets);
        if (nq > 0)
            PrefetchBuckets(qw.Slice(0, 4));
        for (int q = 0; q < nq; q++)
        {
            var d = qw.Slice(q * 4, 4);
            if (q + 1 < nq)
                PrefetchBuckets(qw.Slice((q + 1) * 4, 4));
            for (int t = 0; t < Tables; t++)
            {
                int key = Key(d, t);
                int used = _bucketCount[t][key];
                if (used == 0 || used > limit)
                    continue;
                ulong check = Check(d, t);
                uint check2 = Check2(d, t);
                foreach (ref readonly var e in _buckets[t][key].AsSpan(0, used))
                {
                    if (BitOperations.PopCount(e.Check ^ check) + BitOperations.PopCount(e.Check2 ^ check2) > maxCheckDistance
                        || lastQuery[e.Slot] == q)
                        continue;
                    lastQuery[e.Slot] = q;
                    votes[e.Slot]++;
                }
            }
        }
        // The best few by a bounded min-heap: nearly every original collects a few chance votes, and
        // sorting them all cost as much as the voting.
        var best = new PriorityQueue<(int Slot, int Votes, double Rank), double>(top + 1);
        for (int s = 0; s < _slots; s++)
        {
            if (votes[s] < minVotes || !_slotAlive[s])
                continue;
            double rank = votes[s] / Math.Sqrt(Math.Max(MinRankLength, _slotLength[s]));
            if (best.Count == top && rank <= best.Peek().Rank || !isEligible(s))
                continue;
            best.Enqueue((s, votes[s], rank), rank);
            if (best.Count > top)
                best.Dequeue();
        }
        var result = new List<(int, int, double)>(best.Count);
        while (best.Count > 0)
            result.Add(best.Dequeue());
        result.Reverse();
        return result;
    }

    /// <summary>
    /// Asks the processor to fetch the start of the buckets the next descriptor will read while this one is voting:
    /// every bucket is a separate array somewhere in a few hundred megabytes, and waiting for each one's first
    /// cache line is a good part of the voting time (a tenth less with 10 000 originals). A hint only: a bucket
    /// the collector moved meanwhile is merely not prefetched.
    /// </summary>
    private unsafe void PrefetchBuckets(ReadOnlySpan<ulong> descriptor)
    {
        if (!Sse.IsSupported)
            return;
        for (int t = 0; t < Tables; t++)
            if (_buckets[t][Key(descriptor, t)] is { Length: > 0 } bucket)
                Sse.Prefetch0(Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(bucket)));
    }

    /// <summary>Descriptor count below which an original's votes are not scaled up further (a few lucky votes of a tiny original are no evidence).</summary>
    private const int MinRankLength = 25;

    /// <summary>Approximate bytes held, for memory figures.</summary>
    public long ApproximateBytes
    {
        get
        {
            long bytes = _slotAlive.Length * 5L;
            for (int t = 0; t < Tables; t++)
                foreach (var bucket in _buckets[t])
                    bytes += 12 + (bucket is null ? 0 : 24 + bucket.Length * 16L);
            return bytes;
        }
    }
}
