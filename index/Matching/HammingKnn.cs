using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace LeakHunter.Index.Matching;

/// <summary>Brute-force Hamming nearest neighbours for 256-bit descriptors (the matching step of verification).</summary>
internal static class HammingKnn
{
    /// <summary>For each query descriptor: best index and distance, and the best distance among train descriptors farther than minSeparation from the best.</summary>
    public static void Match(FeatureSet q, FeatureSet t, float minSeparation, Span<int> bestIdx, Span<int> bestDist, Span<int> secondDist)
    {
        var qd = MemoryMarshal.Cast<byte, ulong>(q.Descriptors.AsSpan());
        var td = MemoryMarshal.Cast<byte, ulong>(t.Descriptors.AsSpan());
        int nt = t.Count;
        var planes = PopCount256.IsSupported ? Planes(td) : null;
        var dist = new int[planes is null ? nt : planes.Length / 4];
        float sep2 = minSeparation * minSeparation;
        for (int i = 0; i < q.Count; i++)
        {
            var (b, bd, s, sd) = planes is null ? Distances(qd.Slice(i * 4, 4), td, dist) : Distances(qd.Slice(i * 4, 4), planes, nt, dist);
            if (s >= 0)
            {
                float bx = t.X[b], by = t.Y[b];
                float dx = t.X[s] - bx, dy = t.Y[s] - by;
                if (dx * dx + dy * dy <= sep2)
                {
                    // The runner-up is the same corner found again (ORB's pyramid often detects it twice):
                    // the second best that counts is the best elsewhere.
                    sd = int.MaxValue;
                    for (int j = 0; j < nt; j++)
                    {
                        if (dist[j] >= sd || j == b) continue;
                        dx = t.X[j] - bx;
                        dy = t.Y[j] - by;
                        if (dx * dx + dy * dy > sep2) sd = dist[j];
                    }
                }
            }
            bestIdx[i] = b;
            bestDist[i] = bd;
            secondDist[i] = sd;
        }
    }

    /// <summary>
    /// Hamming distances from one descriptor (4 words) to each of <paramref name="train"/>'s descriptors, with
    /// the nearest and the runner-up (index and distance; -1 and int.MaxValue when absent). Scalar population
    /// counts without bounds checks, for processors without AVX-512: byte-lookup counts over descriptors as they
    /// are stored measured no faster than POPCNT; over word planes (the other overload) they are.
    /// </summary>
    public static (int Best, int BestDistance, int Second, int SecondDistance) Distances(ReadOnlySpan<ulong> query, ReadOnlySpan<ulong> train, Span<int> distances)
    {
        int n = Math.Min(train.Length / 4, distances.Length);
        ulong a0 = query[0], a1 = query[1], a2 = query[2], a3 = query[3];
        ref ulong t = ref MemoryMarshal.GetReference(train);
        ref int dist = ref MemoryMarshal.GetReference(distances);
        int best = -1, bestDistance = int.MaxValue, second = -1, secondDistance = int.MaxValue;
        for (int j = 0; j < n; j++)
        {
            ref ulong w = ref Unsafe.Add(ref t, j * 4);
            int d = BitOperations.PopCount(a0 ^ w) + BitOperations.PopCount(a1 ^ Unsafe.Add(ref w, 1)) +
                    BitOperations.PopCount(a2 ^ Unsafe.Add(ref w, 2)) + BitOperations.PopCount(a3 ^ Unsafe.Add(ref w, 3));
            Unsafe.Add(ref dist, j) = d;
            if (d < secondDistance)
            {
                if (d < bestDistance)
                    (second, secondDistance, best, bestDistance) = (best, bestDistance, j, d);
                else
                    (second, secondDistance) = (j, d);
            }
        }
        return (best, bestDistance, second, secondDistance);
    }

    /// <summary>
    /// Descriptors as four planes for <see cref="PopCount256"/> (word k of descriptor j at k * stride + j), each plane
    /// padded with zeros to a multiple of eight.
    /// </summary>
    public static ulong[] Planes(ReadOnlySpan<ulong> descriptors)
    {
        int n = descriptors.Length / 4, stride = (n + 7) & ~7;
        var planes = new ulong[4 * stride];
        for (int j = 0; j < n; j++)
            for (int k = 0; k < 4; k++)
                planes[k * stride + j] = descriptors[j * 4 + k];
        return planes;
    }

    /// <summary>
    /// As <see cref="Distances(ReadOnlySpan{ulong}, ReadOnlySpan{ulong}, Span{int})"/>, eight train descriptors at a time
    /// from <see cref="Planes"/> (<paramref name="distances"/> as long as a plane). Each lane keeps the nearest two of its
    /// own descriptors as keys (distance in the high half, index in the low), so that "nearer, or as near and earlier"
    /// is one unsigned minimum: three instructions per step instead of compares and blends, on the vector ports that the
    /// population counts keep busy. The lanes are merged at the end. The nearest is the first of equally near ones, as in
    /// the scalar loop; the runner-up's distance is the same, and its index is one at that distance.
    /// </summary>
    public static (int Best, int BestDistance, int Second, int SecondDistance) Distances(ReadOnlySpan<ulong> query, ulong[] planes, int count, Span<int> distances)
    {
        int stride = planes.Length / 4;
        if (distances.Length < stride)
            throw new ArgumentException("distances must be as long as a plane", nameof(distances));
        var q = new PopCount256.Query(query[0], query[1], query[2], query[3]);
        ref ulong a = ref MemoryMarshal.GetArrayDataReference(planes);
        ref int dist = ref MemoryMarshal.GetReference(distances);
        var none = Vector512.Create(ulong.MaxValue);
        Vector512<ulong> best = none, second = none;
        var index = Vector512.Create(0UL, 1, 2, 3, 4, 5, 6, 7);
        var step = Vector512.Create(8UL);
        var valid = Vector512.Create((ulong)count);
        for (int j = 0; j < stride; j += 8, index += step)
        {
            var d = PopCount256.Distances(q,
                Vector512.LoadUnsafe(ref a, (nuint)j), Vector512.LoadUnsafe(ref a, (nuint)(stride + j)),
                Vector512.LoadUnsafe(ref a, (nuint)(2 * stride + j)), Vector512.LoadUnsafe(ref a, (nuint)(3 * stride + j)));
            Avx512F.ConvertToVector256Int32(d).AsInt32().StoreUnsafe(ref dist, (nuint)j);
            var key = Vector512.ShiftLeft(d, 32) | index;
            if (j + 8 > count)
                key = Vector512.ConditionalSelect(Vector512.LessThan(index, valid), key, none); // padding never wins
            second = Vector512.Min(second, Vector512.Max(best, key));
            best = Vector512.Min(best, key);
        }
        // Merge the lanes: the smallest key of all, then the smallest of the rest.
        ulong first = none[0];
        for (int lane = 0; lane < 8; lane++)
            first = Math.Min(first, best[lane]);
        ulong runnerUp = none[0];
        for (int lane = 0; lane < 8; lane++)
        {
            if (best[lane] != first)
                runnerUp = Math.Min(runnerUp, best[lane]);
            runnerUp = Math.Min(runnerUp, second[lane]);
        }
        static (int Index, int Distance) Split(ulong key) => key == ulong.MaxValue ? (-1, int.MaxValue) : ((int)(uint)key, (int)(key >> 32));
        var (b, bd) = Split(first);
        var (s, sd) = Split(runnerUp);
        return (b, bd, s, sd);
    }
}
