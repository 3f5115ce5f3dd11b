using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

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
        var dist = new int[nt];
        float sep2 = minSeparation * minSeparation;
        for (int i = 0; i < q.Count; i++)
        {
            var (b, bd, s, sd) = Distances(qd.Slice(i * 4, 4), td, dist);
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
    /// counts without bounds checks: this loop is most of verification's time, and on these machines
    /// byte-lookup counts in 256- or 512-bit registers measured no faster than POPCNT.
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
}
