using System.Numerics;
using System.Runtime.InteropServices;

namespace LeakHunter.Index.Matching;

/// <summary>
/// Finds which registered originals share many local-feature descriptors with a query: a
/// multi-index hash over 16-bit substrings of the 256-bit ORB descriptors (a descriptor meets
/// its true match when one substring is identical), each hit confirmed by its full Hamming
/// distance, one vote per query descriptor and original. Not thread-safe; the matcher locks.
/// <para>Layout, for speed at millions of descriptors: every bucket is one contiguous array of
/// (descriptor number, 64-bit check word taken from another part of the descriptor), so a lookup
/// streams through memory and only hits whose check word is close are compared in full; appending
/// to a bucket is amortised constant time, so registration never rebuilds anything.</para>
/// </summary>
internal sealed class DescriptorIndex
{
    private const int Tables = 8;
    private const int Buckets = 1 << 16;

    /// <summary>Descriptors as four 64-bit words each.</summary>
    private ulong[] _words = new ulong[1 << 13];
    private int[] _owner = new int[1 << 11];
    private int _count;

    [StructLayout(LayoutKind.Sequential, Pack = 4)]
    private struct Entry
    {
        public int Descriptor;
        public ulong Check;
    }

    private readonly Entry[][][] _buckets = new Entry[Tables][][];
    private readonly int[][] _bucketCount = new int[Tables][];

    private readonly List<bool> _slotAlive = [];
    private readonly List<int> _slotStart = [];
    private readonly List<int> _slotLength = [];
    private int _deadDescriptors;

    public DescriptorIndex()
    {
        for (int t = 0; t < Tables; t++)
        {
            _buckets[t] = new Entry[Buckets][];
            _bucketCount[t] = new int[Buckets];
        }
    }

    public int SlotCount => _slotAlive.Count;
    public int DescriptorCount => _count - _deadDescriptors;

    /// <summary>Table t's key: the t-th 16 bits of the descriptor (bytes 2t and 2t+1).</summary>
    private static int Key(ulong[] words, int e, int table) => (int)(words[e * 4 + table / 4] >> (16 * (table % 4))) & 0xFFFF;

    /// <summary>Table t's check word: the next 64-bit word of the descriptor, which never holds the key's bits.</summary>
    private static ulong Check(ulong[] words, int e, int table) => words[e * 4 + (table / 4 + 1) % 4];

    /// <summary>Adds the descriptors of one original; returns its slot.</summary>
    public int Add(byte[] descriptors)
    {
        int n = descriptors.Length / FeatureSet.DescriptorBytes;
        int slot = _slotAlive.Count;
        _slotAlive.Add(true);
        _slotStart.Add(_count);
        _slotLength.Add(n);
        EnsureCapacity(_count + n);
        MemoryMarshal.Cast<byte, ulong>(descriptors.AsSpan(0, n * FeatureSet.DescriptorBytes)).CopyTo(_words.AsSpan(_count * 4));
        for (int i = 0; i < n; i++)
        {
            int e = _count + i;
            _owner[e] = slot;
            for (int t = 0; t < Tables; t++)
            {
                int key = Key(_words, e, t);
                ref var bucket = ref _buckets[t][key];
                int used = _bucketCount[t][key]++;
                if (bucket is null || used == bucket.Length)
                    Array.Resize(ref bucket, Math.Max(4, used + used / 2));
                bucket[used] = new Entry { Descriptor = e, Check = Check(_words, e, t) };
            }
        }
        _count += n;
        return slot;
    }

    public void Remove(int slot)
    {
        if (slot < 0 || slot >= _slotAlive.Count || !_slotAlive[slot])
            return;
        _slotAlive[slot] = false;
        _deadDescriptors += _slotLength[slot];
    }

    /// <summary>True when more than half the stored descriptors belong to removed originals.</summary>
    public bool NeedsCompaction => _deadDescriptors > 4096 && _deadDescriptors * 2 > _count;

    private void EnsureCapacity(int needed)
    {
        if (needed > _owner.Length)
        {
            int cap = Math.Max(needed, _owner.Length * 2);
            Array.Resize(ref _owner, cap);
            Array.Resize(ref _words, cap * 4);
        }
    }

    /// <summary>
    /// Votes: for each query descriptor, every original holding a descriptor within
    /// <paramref name="maxDistance"/> bits gets one vote. Returns (slot, votes) for slots with at least <paramref name="minVotes"/>.
    /// </summary>
    public List<(int Slot, int Votes)> Vote(byte[] query, int maxDistance, int minVotes)
    {
        int nq = query.Length / FeatureSet.DescriptorBytes;
        var qw = MemoryMarshal.Cast<byte, ulong>(query.AsSpan(0, nq * FeatureSet.DescriptorBytes)).ToArray();
        var tally = new Tally(_slotAlive.Count);
        // A true match within maxDistance bits differs in about maxDistance/4 of the 64 check bits
        // (standard deviation about 3), a chance pair in about 32: the margin keeps ~98 % of true
        // matches and lets one chance pair in a thousand through to the full comparison.
        int maxCheck = maxDistance * 64 / 256 + 7;
        // Buckets far above the average load hold descriptors of flat or repetitive patterns that
        // every picture has: they carry no evidence and would dominate the time, so they are skipped.
        int limit = Math.Max(64, 3 * _count / Buckets);
        for (int q = 0; q < nq; q++)
        {
            for (int t = 0; t < Tables; t++)
            {
                int key = Key(qw, q, t);
                ulong qc = Check(qw, q, t);
                int used = _bucketCount[t][key];
                if (used == 0 || used > limit)
                    continue;
                var bucket = _buckets[t][key];
                for (int i = 0; i < used; i++)
                    if (BitOperations.PopCount(bucket[i].Check ^ qc) <= maxCheck)
                        Consider(qw, q, bucket[i].Descriptor, maxDistance, tally);
            }
        }
        var result = new List<(int, int)>();
        for (int s = 0; s < tally.Votes.Length; s++)
            if (tally.Votes[s] >= minVotes)
                result.Add((s, tally.Votes[s]));
        return result;
    }

    /// <summary>Votes per slot, and which query descriptor last voted for each (one vote per descriptor and original).</summary>
    private sealed class Tally(int slots)
    {
        public readonly int[] Votes = new int[slots];
        public readonly int[] LastQuery = CreateStamps(slots);

        private static int[] CreateStamps(int n)
        {
            var a = new int[n];
            Array.Fill(a, -1);
            return a;
        }
    }

    private void Consider(ulong[] qw, int q, int e, int maxDistance, Tally tally)
    {
        int slot = _owner[e];
        if (tally.LastQuery[slot] == q)
            return;
        int d = BitOperations.PopCount(qw[q * 4] ^ _words[e * 4]) + BitOperations.PopCount(qw[q * 4 + 1] ^ _words[e * 4 + 1]) +
                BitOperations.PopCount(qw[q * 4 + 2] ^ _words[e * 4 + 2]) + BitOperations.PopCount(qw[q * 4 + 3] ^ _words[e * 4 + 3]);
        if (d <= maxDistance && _slotAlive[slot])
        {
            tally.LastQuery[slot] = q;
            tally.Votes[slot]++;
        }
    }

    /// <summary>Approximate bytes held, for memory figures.</summary>
    public long ApproximateBytes
    {
        get
        {
            long bytes = (long)_owner.Length * (4 + FeatureSet.DescriptorBytes) + _slotAlive.Count * 12L;
            for (int t = 0; t < Tables; t++)
                foreach (var bucket in _buckets[t])
                    bytes += 12 + (bucket is null ? 0 : 24 + bucket.Length * 12L);
            return bytes;
        }
    }
}
