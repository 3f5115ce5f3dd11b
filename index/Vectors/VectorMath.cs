using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace LeakHunter.Index.Vectors;

/// <summary>SIMD kernels of the vector index.</summary>
public static class VectorMath
{
    /// <summary>Copy of v scaled to unit length (zero vector stays zero).</summary>
    public static float[] Normalized(ReadOnlySpan<float> v)
    {
        var r = v.ToArray();
        var n = TensorPrimitives.Norm(r);
        if (n > 0) TensorPrimitives.Divide(r, n, r);
        return r;
    }

    /// <summary>Symmetric int8 quantisation: code = round(v / scale), scale = max|v| / 127.</summary>
    public static float Quantize(ReadOnlySpan<float> v, Span<sbyte> codes)
    {
        var max = TensorPrimitives.MaxMagnitude(v);
        var max0 = MathF.Abs(max);
        if (max0 == 0) { codes.Clear(); return 0; }
        var inv = 127f / max0;
        for (var i = 0; i < v.Length; i++) codes[i] = (sbyte)Math.Clamp(MathF.Round(v[i] * inv), -127, 127);
        return max0 / 127f;
    }

    /// <summary>
    /// Integer dot product of an int8 code with a query whose int8 codes were widened to 16 bits once per search
    /// (<see cref="Widen"/>): each step then only widens the code's bytes and multiplies-and-adds pairs, 32 of them
    /// per step with AVX-512 and 16 with AVX2. The inverted lists' scan is this loop.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int DotInt8(ReadOnlySpan<short> widenedQuery, ReadOnlySpan<sbyte> code)
    {
        var n = Math.Min(widenedQuery.Length, code.Length);
        var i = 0;
        var sum = 0;
        ref var q = ref MemoryMarshal.GetReference(widenedQuery);
        ref var c = ref MemoryMarshal.GetReference(code);
        if (Avx512BW.IsSupported && n >= 32)
        {
            var acc = Vector512<int>.Zero;
            for (; i + 32 <= n; i += 32)
                acc += Avx512BW.MultiplyAddAdjacent(Avx512BW.ConvertToVector512Int16(Vector256.LoadUnsafe(ref c, (nuint)i)), Vector512.LoadUnsafe(ref q, (nuint)i));
            sum = Vector512.Sum(acc);
        }
        else if (Avx2.IsSupported && n >= 16)
        {
            var acc = Vector256<int>.Zero;
            for (; i + 16 <= n; i += 16)
                acc += Avx2.MultiplyAddAdjacent(Avx2.ConvertToVector256Int16(Vector128.LoadUnsafe(ref c, (nuint)i)), Vector256.LoadUnsafe(ref q, (nuint)i));
            sum = Vector256.Sum(acc);
        }
        for (; i < n; i++) sum += Unsafe.Add(ref q, i) * Unsafe.Add(ref c, i);
        return sum;
    }

    /// <summary>
    /// <see cref="DotInt8(ReadOnlySpan{short}, ReadOnlySpan{sbyte})"/> of the query with each of the first <paramref name="count"/>
    /// codes stored back to back in <paramref name="codes"/>, into <paramref name="dots"/>.
    /// </summary>
    public static void DotInt8(ReadOnlySpan<short> widenedQuery, ReadOnlySpan<sbyte> codes, int count, Span<int> dots)
    {
        int dimension = widenedQuery.Length;
        for (int i = 0; i < count; i++)
            dots[i] = DotInt8(widenedQuery, codes.Slice(i * dimension, dimension));
    }

    /// <summary>int8 codes widened to 16 bits, for <see cref="DotInt8"/>.</summary>
    public static short[] Widen(ReadOnlySpan<sbyte> codes)
    {
        var widened = new short[codes.Length];
        for (var i = 0; i < codes.Length; i++) widened[i] = codes[i];
        return widened;
    }

    /// <summary>Dot product of a float16 vector with a float vector.</summary>
    public static float DotHalf(ReadOnlySpan<Half> a, ReadOnlySpan<float> b, Span<float> scratch)
    {
        TensorPrimitives.ConvertToSingle(a, scratch);
        return TensorPrimitives.Dot(scratch[..b.Length], b);
    }
}

/// <summary>Keeps the best k (highest score) items seen; Min-heap on score.</summary>
internal sealed class TopK(int k)
{
    private readonly PriorityQueue<int, float> _heap = new(k + 1);

    public int Count => _heap.Count;

    public float Threshold => _heap.Count < k ? float.NegativeInfinity : (_heap.TryPeek(out _, out var s) ? s : float.NegativeInfinity);

    public void Offer(int item, float score)
    {
        if (_heap.Count < k) _heap.Enqueue(item, score);
        else if (score > Threshold) _heap.EnqueueDequeue(item, score);
    }

    /// <summary>Items, best first.</summary>
    public List<(int Item, float Score)> Drain()
    {
        var list = new List<(int, float)>(_heap.Count);
        while (_heap.TryDequeue(out var item, out var s)) list.Add((item, s));
        list.Reverse();
        return list;
    }
}
