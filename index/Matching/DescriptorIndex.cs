using System.Numerics;
using System.Runtime.InteropServices;

namespace LeakHunter.Index.Matching;

/// <summary>
/// Finds which registered originals share many local-feature descriptors with a query: a
/// multi-index hash over 16-bit substrings of the 256-bit ORB descriptors (a descriptor meets
/// its true match when one substring is identical), each hit confirmed by its full Hamming
/// distance, one vote per query descriptor and original. Not thread-safe; the matcher locks.
/// </summary>
internal sealed class DescriptorIndex
{
    private const int Tables = 8;
    private const int Buckets = 1 << 16;

    private readonly int[][] _heads = new int[Tables][];
    private readonly int[][] _sizes = new int[Tables][];
    private int[][] _next = new int[Tables][];
    private byte[] _desc = new byte[1 << 16];
    private int[] _owner = new int[1 << 11];
    private int _count;

    private readonly List<bool> _slotAlive = [];
    private readonly List<int> _slotStart = [];
    private readonly List<int> _slotLength = [];
    private int _deadDescriptors;

    public DescriptorIndex()
    {
        for (int t = 0; t < Tables; t++)
        {
            _heads[t] = new int[Buckets];
            _sizes[t] = new int[Buckets];
            Array.Fill(_heads[t], -1);
            _next[t] = new int[_owner.Length];
        }
    }

    public int SlotCount => _slotAlive.Count;
    public int DescriptorCount => _count - _deadDescriptors;

    /// <summary>Adds the descriptors of one original; returns its slot.</summary>
    public int Add(byte[] descriptors)
    {
        int n = descriptors.Length / FeatureSet.DescriptorBytes;
        int slot = _slotAlive.Count;
        _slotAlive.Add(true);
        _slotStart.Add(_count);
        _slotLength.Add(n);
        EnsureCapacity(_count + n);
        Buffer.BlockCopy(descriptors, 0, _desc, _count * FeatureSet.DescriptorBytes, n * FeatureSet.DescriptorBytes);
        for (int i = 0; i < n; i++)
        {
            int e = _count + i;
            _owner[e] = slot;
            int off = e * FeatureSet.DescriptorBytes;
            for (int t = 0; t < Tables; t++)
            {
                int key = _desc[off + 2 * t] | _desc[off + 2 * t + 1] << 8;
                _next[t][e] = _heads[t][key];
                _heads[t][key] = e;
                _sizes[t][key]++;
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
        if (needed <= _owner.Length)
            return;
        int cap = Math.Max(needed, _owner.Length * 2);
        Array.Resize(ref _owner, cap);
        Array.Resize(ref _desc, cap * FeatureSet.DescriptorBytes);
        for (int t = 0; t < Tables; t++)
            Array.Resize(ref _next[t], cap);
    }

    /// <summary>
    /// Votes: for each query descriptor, every original holding a descriptor within
    /// <paramref name="maxDistance"/> bits gets one vote. Returns (slot, votes) for slots with at least <paramref name="minVotes"/>.
    /// </summary>
    public List<(int Slot, int Votes)> Vote(byte[] query, int maxDistance, int minVotes)
    {
        int nq = query.Length / FeatureSet.DescriptorBytes;
        int slots = _slotAlive.Count;
        var votes = new int[slots];
        var stamp = new int[slots];
        Array.Fill(stamp, -1);
        var qs = MemoryMarshal.Cast<byte, ulong>(query.AsSpan());
        // Buckets far above the average load hold descriptors of flat or repetitive patterns that
        // every picture has: they carry no evidence and would dominate the time, so they are skipped.
        int limit = Math.Max(64, 8 * _count / Buckets);
        var ds = MemoryMarshal.Cast<byte, ulong>(_desc.AsSpan(0, _count * FeatureSet.DescriptorBytes));
        for (int q = 0; q < nq; q++)
        {
            int off = q * FeatureSet.DescriptorBytes;
            ulong q0 = qs[q * 4], q1 = qs[q * 4 + 1], q2 = qs[q * 4 + 2], q3 = qs[q * 4 + 3];
            for (int t = 0; t < Tables; t++)
            {
                int key = query[off + 2 * t] | query[off + 2 * t + 1] << 8;
                if (_sizes[t][key] > limit)
                    continue;
                for (int e = _heads[t][key]; e >= 0; e = _next[t][e])
                {
                    int slot = _owner[e];
                    if (stamp[slot] == q)
                        continue;
                    int d = BitOperations.PopCount(q0 ^ ds[e * 4]) + BitOperations.PopCount(q1 ^ ds[e * 4 + 1]) +
                            BitOperations.PopCount(q2 ^ ds[e * 4 + 2]) + BitOperations.PopCount(q3 ^ ds[e * 4 + 3]);
                    if (d <= maxDistance && _slotAlive[slot])
                    {
                        stamp[slot] = q;
                        votes[slot]++;
                    }
                }
            }
        }
        var result = new List<(int, int)>();
        for (int s = 0; s < slots; s++)
            if (votes[s] >= minVotes)
                result.Add((s, votes[s]));
        return result;
    }

    /// <summary>Approximate bytes held, for memory figures.</summary>
    public long ApproximateBytes =>
        (long)Tables * Buckets * 8 + (long)_owner.Length * (4 + Tables * 4 + FeatureSet.DescriptorBytes) + _slotAlive.Count * 12L;
}
