using System.Runtime.CompilerServices;

namespace LeakHunter.Index.Watermark;

/// <summary>
/// The key-derived layout of one square tile of the mark (<see cref="Size"/> x <see cref="Size"/> chips in
/// the mark frame). A quarter of the chips are a fixed pseudo-random synchronisation pattern (used to find
/// the tile's phase after cropping, and its scale); the rest spread the 210 coded bits, each bit over about
/// 15 chips per tile with pseudo-random signs, at key-permuted positions. The tile repeats over the whole
/// picture, so every part of the picture carries the full message.
/// </summary>
internal sealed class WatermarkLayout
{
    public const int Size = 64;
    public const int Cells = Size * Size;
    public const int SyncEvery = 4; // 1 in 4 chips is sync

    /// <summary>+-1 at sync chips, 0 elsewhere.</summary>
    public readonly float[] Sync = new float[Cells];
    /// <summary>+-1 spreading sign at data chips, 0 at sync chips.</summary>
    public readonly sbyte[] Chip = new sbyte[Cells];
    /// <summary>Coded bit index carried by each data chip, -1 at sync chips.</summary>
    public readonly short[] Bit = new short[Cells];
    /// <summary>Data chip positions of each coded bit.</summary>
    public readonly int[][] ChipsOfBit;
    public readonly ulong Whitening;

    private static readonly ConditionalWeakTable<WatermarkKey, WatermarkLayout> Cache = new();

    public static WatermarkLayout For(WatermarkKey key) => Cache.GetValue(key, k => new WatermarkLayout(k));

    private WatermarkLayout(WatermarkKey key)
    {
        var rng = new Xoshiro(key.Derive("leakhunter/watermark/v1/layout"));
        Whitening = rng.Next();
        var order = new int[Cells];
        for (var i = 0; i < Cells; i++) order[i] = i;
        for (var i = Cells - 1; i > 0; i--)
        {
            var j = (int)(rng.Next() % (ulong)(i + 1));
            (order[i], order[j]) = (order[j], order[i]);
        }
        var syncCount = Cells / SyncEvery;
        var lists = new List<int>[WatermarkCode.CodedBits];
        for (var b = 0; b < lists.Length; b++) lists[b] = [];
        for (var n = 0; n < Cells; n++)
        {
            var pos = order[n];
            var sign = (rng.Next() & 1) == 0 ? -1 : 1;
            if (n < syncCount)
            {
                Sync[pos] = sign;
                Bit[pos] = -1;
            }
            else
            {
                var b = (n - syncCount) % WatermarkCode.CodedBits;
                Chip[pos] = (sbyte)sign;
                Bit[pos] = (short)b;
                lists[b].Add(pos);
            }
        }
        ChipsOfBit = lists.Select(l => l.ToArray()).ToArray();
        using var sm = OpenCvSharp.Mat.FromPixelData(Size, Size, OpenCvSharp.MatType.CV_32F, Sync);
        SyncSpectrum = new OpenCvSharp.Mat();
        OpenCvSharp.Cv2.Dft(sm, SyncSpectrum, OpenCvSharp.DftFlags.ComplexOutput);
    }

    /// <summary>DFT of the sync chips (for cyclic correlation).</summary>
    public readonly OpenCvSharp.Mat SyncSpectrum;

    /// <summary>The tile (+-1 per chip) that carries the given coded bits.</summary>
    public float[] Tile(bool[] coded)
    {
        var t = new float[Cells];
        for (var i = 0; i < Cells; i++)
            t[i] = Bit[i] < 0 ? Sync[i] : (coded[Bit[i]] ? Chip[i] : -Chip[i]);
        return t;
    }

    /// <summary>xoshiro256** seeded from key-derived bytes: deterministic across platforms and runtimes.</summary>
    private sealed class Xoshiro
    {
        private ulong _s0, _s1, _s2, _s3;

        public Xoshiro(byte[] seed)
        {
            _s0 = System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(seed.AsSpan(0)) | 1;
            _s1 = System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(seed.AsSpan(8));
            _s2 = System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(seed.AsSpan(16));
            _s3 = System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(seed.AsSpan(24));
            for (var i = 0; i < 16; i++) Next();
        }

        public ulong Next()
        {
            var result = ulong.RotateLeft(_s1 * 5, 7) * 9;
            var t = _s1 << 17;
            _s2 ^= _s0;
            _s3 ^= _s1;
            _s1 ^= _s2;
            _s0 ^= _s3;
            _s2 ^= t;
            _s3 = ulong.RotateLeft(_s3, 45);
            return result;
        }
    }
}
