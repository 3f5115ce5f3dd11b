using System.Numerics;

namespace LeakHunter.Index.HashIndex;

/// <summary>One hit of a Hamming search: the entry's id and its distance to the query.</summary>
public readonly record struct HashHit(long Id, int Distance);

/// <summary>
/// Hamming-distance index over fixed-length binary hashes (64 bits for pHash, 256 bits for PDQ),
/// using multi-index hashing (Norouzi et al.): the hash is cut into 16-bit chunks, each chunk
/// indexes a table of 65 536 buckets. By the pigeonhole principle every hash within distance r of
/// the query agrees with it to within floor(r / chunks) bits on at least one chunk, so probing each
/// chunk's buckets within that small radius finds all of them; candidates are then checked with
/// the full distance. When the per-chunk radius would exceed <see cref="MaxProbeRadius"/> the
/// search falls back to an exact linear scan (still SIMD-friendly popcounts).
/// Thread-safe: many readers, one writer at a time.
/// </summary>
public sealed class HammingIndex
{
    private const int ChunkBits = 16;
    private const int Buckets = 1 << ChunkBits;
    private const int NoEntry = -1;

    private readonly int _words;     // ulongs per hash
    private readonly int _chunks;    // 16-bit chunks per hash
    private readonly ReaderWriterLockSlim _lock = new(LockRecursionPolicy.NoRecursion);
    private readonly int[][] _heads; // per chunk: bucket -> first slot (linked through _next)
    private ulong[] _hashes = new ulong[0];
    private long[] _ids = new long[0];
    private int[] _next = new int[0];   // slot * chunks + chunk -> next slot in that bucket
    private bool[] _deleted = new bool[0];
    private readonly Dictionary<long, int> _slotOfId = new();
    private int _slots;

    /// <summary>Largest per-chunk radius probed by enumeration; beyond it a linear scan is cheaper.</summary>
    public int MaxProbeRadius { get; init; } = 2;

    public HammingIndex(int bits)
    {
        if (bits <= 0 || bits % 64 != 0)
            throw new ArgumentOutOfRangeException(nameof(bits), "hash length must be a positive multiple of 64 bits");
        Bits = bits;
        _words = bits / 64;
        _chunks = bits / ChunkBits;
        _heads = new int[_chunks][];
        for (var c = 0; c < _chunks; c++)
        {
            _heads[c] = new int[Buckets];
            Array.Fill(_heads[c], NoEntry);
        }
    }

    /// <summary>Hash length in bits.</summary>
    public int Bits { get; }

    /// <summary>Number of live entries.</summary>
    public int Count
    {
        get { _lock.EnterReadLock(); try { return _slotOfId.Count; } finally { _lock.ExitReadLock(); } }
    }

    /// <summary>Approximate bytes of memory held per live entry (hash, id, chain links, id map).</summary>
    public long BytesPerEntry => 8L * _words + 8 + 4L * _chunks + 1 + 24;

    /// <summary>Adds (or replaces) the hash stored under id.</summary>
    public void Add(long id, ReadOnlySpan<ulong> hash)
    {
        if (hash.Length != _words)
            throw new ArgumentException($"expected a {Bits}-bit hash ({_words} words), got {hash.Length} words", nameof(hash));
        _lock.EnterWriteLock();
        try
        {
            if (_slotOfId.TryGetValue(id, out var old))
                _deleted[old] = true;
            EnsureCapacity(_slots + 1);
            var slot = _slots++;
            hash.CopyTo(_hashes.AsSpan(slot * _words, _words));
            _ids[slot] = id;
            _deleted[slot] = false;
            for (var c = 0; c < _chunks; c++)
            {
                var key = Chunk(hash, c);
                _next[slot * _chunks + c] = _heads[c][key];
                _heads[c][key] = slot;
            }
            _slotOfId[id] = slot;
        }
        finally { _lock.ExitWriteLock(); }
    }

    /// <summary>Adds a 64-bit hash (only for a 64-bit index).</summary>
    public void Add(long id, ulong hash) => Add(id, new ReadOnlySpan<ulong>(in hash));

    /// <summary>Whether an entry with this id is present.</summary>
    public bool Contains(long id)
    {
        _lock.EnterReadLock();
        try { return _slotOfId.ContainsKey(id); }
        finally { _lock.ExitReadLock(); }
    }

    /// <summary>Removes the entry with this id; false if absent.</summary>
    public bool Remove(long id)
    {
        _lock.EnterWriteLock();
        try
        {
            if (!_slotOfId.Remove(id, out var slot)) return false;
            _deleted[slot] = true;
            return true;
        }
        finally { _lock.ExitWriteLock(); }
    }

    /// <summary>All entries within maxDistance of the query, nearest first (at most limit of them).</summary>
    public List<HashHit> Search(ReadOnlySpan<ulong> query, int maxDistance, int limit = int.MaxValue)
    {
        if (query.Length != _words)
            throw new ArgumentException($"expected a {Bits}-bit hash ({_words} words), got {query.Length} words", nameof(query));
        if (maxDistance < 0) return [];
        var perChunk = maxDistance / _chunks;
        List<HashHit> hits;
        _lock.EnterReadLock();
        try
        {
            hits = perChunk > MaxProbeRadius ? ScanLocked(query, maxDistance) : ProbeLocked(query, maxDistance, perChunk);
        }
        finally { _lock.ExitReadLock(); }
        hits.Sort((a, b) => a.Distance != b.Distance ? a.Distance.CompareTo(b.Distance) : a.Id.CompareTo(b.Id));
        if (hits.Count > limit) hits.RemoveRange(limit, hits.Count - limit);
        return hits;
    }

    /// <summary>Search with a 64-bit query.</summary>
    public List<HashHit> Search(ulong query, int maxDistance, int limit = int.MaxValue) =>
        Search(new ReadOnlySpan<ulong>(in query), maxDistance, limit);

    /// <summary>Exact linear scan, for reference and for large radii.</summary>
    public List<HashHit> SearchExact(ReadOnlySpan<ulong> query, int maxDistance, int limit = int.MaxValue)
    {
        if (query.Length != _words)
            throw new ArgumentException($"expected a {Bits}-bit hash ({_words} words), got {query.Length} words", nameof(query));
        List<HashHit> hits;
        _lock.EnterReadLock();
        try { hits = ScanLocked(query, maxDistance); }
        finally { _lock.ExitReadLock(); }
        hits.Sort((a, b) => a.Distance != b.Distance ? a.Distance.CompareTo(b.Distance) : a.Id.CompareTo(b.Id));
        if (hits.Count > limit) hits.RemoveRange(limit, hits.Count - limit);
        return hits;
    }

    /// <summary>Hamming distance of two equally long hashes.</summary>
    public static int Distance(ReadOnlySpan<ulong> a, ReadOnlySpan<ulong> b)
    {
        var d = 0;
        for (var i = 0; i < a.Length; i++) d += BitOperations.PopCount(a[i] ^ b[i]);
        return d;
    }

    private List<HashHit> ScanLocked(ReadOnlySpan<ulong> query, int maxDistance)
    {
        var hits = new List<HashHit>();
        var hashes = _hashes.AsSpan(0, _slots * _words);
        for (var s = 0; s < _slots; s++)
        {
            if (_deleted[s]) continue;
            var d = Distance(hashes.Slice(s * _words, _words), query);
            if (d <= maxDistance) hits.Add(new HashHit(_ids[s], d));
        }
        return hits;
    }

    private List<HashHit> ProbeLocked(ReadOnlySpan<ulong> query, int maxDistance, int perChunk)
    {
        var hits = new List<HashHit>();
        // A slot can be reached from several chunks: remember the ones already verified.
        var seen = new HashSet<int>();
        var hashes = _hashes.AsSpan();
        for (var c = 0; c < _chunks; c++)
        {
            var key = Chunk(query, c);
            var heads = _heads[c];
            // Enumerate every 16-bit key within perChunk bits of key.
            for (var r = 0; r <= perChunk; r++)
                EnumerateFlips(r, 0, key, heads, c, query, maxDistance, hashes, seen, hits);
        }
        return hits;
    }

    private void EnumerateFlips(int remaining, int start, int key, int[] heads, int chunk,
        ReadOnlySpan<ulong> query, int maxDistance, Span<ulong> hashes, HashSet<int> seen, List<HashHit> hits)
    {
        if (remaining == 0)
        {
            for (var s = heads[key]; s != NoEntry; s = _next[s * _chunks + chunk])
            {
                if (_deleted[s] || !seen.Add(s)) continue;
                var d = Distance(hashes.Slice(s * _words, _words), query);
                if (d <= maxDistance) hits.Add(new HashHit(_ids[s], d));
            }
            return;
        }
        for (var b = start; b < ChunkBits; b++)
            EnumerateFlips(remaining - 1, b + 1, key ^ (1 << b), heads, chunk, query, maxDistance, hashes, seen, hits);
    }

    private static int Chunk(ReadOnlySpan<ulong> hash, int c) => (int)((hash[c >> 2] >> ((c & 3) * 16)) & 0xFFFF);

    private void EnsureCapacity(int slots)
    {
        if (slots <= _ids.Length) return;
        var cap = Math.Max(1024, _ids.Length * 2);
        while (cap < slots) cap *= 2;
        Array.Resize(ref _hashes, cap * _words);
        Array.Resize(ref _ids, cap);
        Array.Resize(ref _deleted, cap);
        Array.Resize(ref _next, cap * _chunks);
    }
}
