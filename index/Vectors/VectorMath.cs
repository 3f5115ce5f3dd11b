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

    /// <summary>Integer dot product of two int8 vectors (AVX2 when available).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int DotInt8(ReadOnlySpan<sbyte> a, ReadOnlySpan<sbyte> b)
    {
        var n = a.Length;
        var i = 0;
        var sum = 0;
        if (Avx2.IsSupported && n >= 32)
        {
            ref var ra = ref MemoryMarshal.GetReference(a);
            ref var rb = ref MemoryMarshal.GetReference(b);
            var acc = Vector256<int>.Zero;
            for (; i + 32 <= n; i += 32)
            {
                var va = Vector256.LoadUnsafe(ref ra, (nuint)i);
                var vb = Vector256.LoadUnsafe(ref rb, (nuint)i);
                var alo = Avx2.ConvertToVector256Int16(va.GetLower());
                var ahi = Avx2.ConvertToVector256Int16(va.GetUpper());
                var blo = Avx2.ConvertToVector256Int16(vb.GetLower());
                var bhi = Avx2.ConvertToVector256Int16(vb.GetUpper());
                acc = Avx2.Add(acc, Avx2.Add(Avx2.MultiplyAddAdjacent(alo, blo), Avx2.MultiplyAddAdjacent(ahi, bhi)));
            }
            sum = Vector256.Sum(acc);
        }
        for (; i < n; i++) sum += a[i] * b[i];
        return sum;
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
