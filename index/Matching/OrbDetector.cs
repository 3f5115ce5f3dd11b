using LeakHunter.Index.Imaging;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using OpenCvSharp;

namespace LeakHunter.Index.Matching;

/// <summary>
/// OpenCV's ORB keypoint detection (Harris score, scale factor 1.2, edge threshold and patch 31, first level 0),
/// step for step and with the same results: the same keypoints, responses, angles and order. The pyramid is
/// OpenCV's resize, as ORB calls it (<see cref="OrbPyramid"/>); FAST corners come from <see cref="FastCorners"/>
/// (OpenCV's FAST where that is not available); what OpenCV does one keypoint at a time in scalar code (the Harris
/// response over a 7x7 block, the orientation by intensity centroid over a disc of radius 15) is done here with
/// SIMD, and the selection of the strongest keypoints per level follows libstdc++'s nth_element and partition
/// exactly, because the order they leave decides later ties.
/// <para>It is used only after <see cref="Available"/> has compared it with OpenCV's ORB on a test picture, as
/// <see cref="OrbDescriptors"/> is; anything it cannot emulate (a selection that would fall back to heap select) makes
/// <see cref="TryDetect"/> return null, and the caller asks OpenCV.</para>
/// </summary>
internal static class OrbDetector
{
    public const float ScaleFactor = 1.2f;
    private const int EdgeThreshold = 31;
    private const int PatchSize = 31;
    private const int HalfPatch = PatchSize / 2;
    private const int HarrisBlock = 7;
    private const float HarrisK = 0.04f;

    /// <summary>Row ends of the disc ICAngles sums over, as ORB computes them.</summary>
    private static readonly int[] UMax = BuildUMax();

    private static readonly Lazy<bool> Verified = new(() => Avx2.IsSupported && AgreesWithOpenCv());

    /// <summary>Whether this emulation is used: the processor has AVX2 and it matched OpenCV on a test picture.</summary>
    public static bool Available => Verified.Value;

    /// <summary>OpenCV's <c>ORB::create(features, 1.2f, levels, 31, 0, 2, HARRIS, 31, fastThreshold)</c> parameters.</summary>
    public static ORB CreateOpenCvOrb(int features, int levels, int fastThreshold) =>
        ORB.Create(features, ScaleFactor, levels, EdgeThreshold, 0, 2, ORBScoreType.Harris, PatchSize, fastThreshold);

    /// <summary>The keypoints OpenCV's ORB with these parameters detects on <paramref name="gray"/>, or null when not emulated.</summary>
    public static KeyPoint[]? TryDetect(Mat gray, int features, int levels, int fastThreshold)
    {
        if (!Available || gray.Type() != MatType.CV_8UC1 || gray.Empty())
            return null;
        using var pyramid = OrbPyramid.Build(gray, levels);
        return Detect(pyramid, features, fastThreshold);
    }

    /// <summary>As <see cref="TryDetect(Mat, int, int, int)"/> on ORB's pyramid of the picture (its levels as ORB's).</summary>
    public static KeyPoint[]? TryDetect(OrbPyramid pyramid, int features, int fastThreshold) =>
        Available ? Detect(pyramid, features, fastThreshold) : null;

    private static KeyPoint[]? Detect(OrbPyramid pyramid, int features, int fastThreshold)
    {
        int levels = pyramid.Count;
        var perLevel = FeaturesPerLevel(features, levels);
        var all = new List<KeyPoint>(Math.Min(2 * features, 2048));
        var counts = new int[levels];
        for (int level = 0; level < levels; level++)
        {
            var image = pyramid.Level(level);
            int width = image.Width, height = image.Height;
            var keypoints = width == 0 || height == 0 ? []
                : FastCorners.Available && fastThreshold >= 1 ? FastCorners.Detect(image, fastThreshold)
                : new List<KeyPoint>(Cv2.FAST(image, fastThreshold, true));
            if (height <= 2 * EdgeThreshold || width <= 2 * EdgeThreshold)
                keypoints.Clear();
            else
                keypoints.RemoveAll(k => !(EdgeThreshold <= k.Pt.X && k.Pt.X < width - EdgeThreshold
                                           && EdgeThreshold <= k.Pt.Y && k.Pt.Y < height - EdgeThreshold));
            var kept = CollectionsMarshal.AsSpan(keypoints);
            if (RetainBest(kept, 2 * perLevel[level]) is not { } n)
                return null;
            float size = PatchSize * OrbPyramid.LayerScale(level);
            for (int i = 0; i < n; i++)
                all.Add(kept[i] with { Octave = level, Size = size });
            counts[level] = n;
        }
        // Each level's first pixel and row step, read once (each is a call into OpenCV).
        var levelImages = new LevelImage[levels];
        for (int level = 0; level < levels; level++)
            levelImages[level] = new LevelImage(pyramid.Level(level).Data, (int)pyramid.Level(level).Step());
        var span = CollectionsMarshal.AsSpan(all);
        for (int i = 0; i < span.Length; i++)
            span[i].Response = HarrisResponse(levelImages[span[i].Octave], span[i].Pt);
        var best = new List<KeyPoint>(all.Count);
        for (int level = 0, offset = 0; level < levels; offset += counts[level], level++)
        {
            var keypoints = span.Slice(offset, counts[level]);
            if (RetainBest(keypoints, perLevel[level]) is not { } n)
                return null;
            best.AddRange(keypoints[..n]);
        }
        var result = best.ToArray();
        for (int i = 0; i < result.Length; i++)
        {
            ref var k = ref result[i];
            k.Angle = Angle(levelImages[k.Octave], k.Pt);
            float scale = OrbPyramid.LayerScale(k.Octave);
            k.Pt = new Point2f(k.Pt.X * scale, k.Pt.Y * scale);
        }
        return result;
    }

    /// <summary>A pyramid level's pixels: its first pixel's address and its row step in bytes.</summary>
    private readonly record struct LevelImage(nint Data, int Step);

    /// <summary>ORB's share of the features per level: a geometric series over the levels, the last taking the rest.</summary>
    private static int[] FeaturesPerLevel(int features, int levels)
    {
        var perLevel = new int[levels];
        float factor = (float)(1.0 / (double)ScaleFactor);
        float desired = features * (1 - factor) / (1 - (float)Math.Pow((double)factor, levels));
        int sum = 0;
        for (int level = 0; level < levels - 1; level++)
        {
            perLevel[level] = RoundToEven(desired);
            sum += perLevel[level];
            desired *= factor;
        }
        perLevel[levels - 1] = Math.Max(features - sum, 0);
        return perLevel;
    }

    /// <summary>
    /// OpenCV's KeyPointsFilter::retainBest: the <paramref name="count"/> strongest, and any others as strong as the
    /// weakest of them, moved to the front (by nth_element, then partition); returns how many are kept, or null when
    /// the selection is one this emulation does not follow.
    /// </summary>
    internal static int? RetainBest(Span<KeyPoint> keypoints, int count)
    {
        if (count < 0 || keypoints.Length <= count)
            return keypoints.Length;
        if (count == 0)
            return 0;
        if (!NthElement(keypoints, count - 1))
            return null;
        float ambiguous = keypoints[count - 1].Response;
        return count + Partition(keypoints[count..], ambiguous);
    }

    /// <summary>libstdc++'s std::nth_element (introselect) with KeypointResponseGreater; false when it would use heap select.</summary>
    private static bool NthElement(Span<KeyPoint> items, int nth)
    {
        int first = 0, last = items.Length;
        if (nth == last)
            return true;
        int depthLimit = 2 * Log2(last - first);
        while (last - first > 3)
        {
            if (depthLimit == 0)
                return false; // libstdc++ would heap-select here: not emulated
            --depthLimit;
            int cut = UnguardedPartitionPivot(items, first, last);
            if (cut <= nth)
                first = cut;
            else
                last = cut;
        }
        InsertionSort(items, first, last);
        return true;
    }

    private static int Log2(int n) => 31 - int.LeadingZeroCount(n);

    /// <summary>KeypointResponseGreater: a before b.</summary>
    private static bool Greater(in KeyPoint a, in KeyPoint b) => a.Response > b.Response;

    private static int UnguardedPartitionPivot(Span<KeyPoint> items, int first, int last)
    {
        int mid = first + (last - first) / 2;
        MoveMedianToFirst(items, first, first + 1, mid, last - 1);
        return UnguardedPartition(items, first + 1, last, first);
    }

    private static void MoveMedianToFirst(Span<KeyPoint> items, int result, int a, int b, int c)
    {
        if (Greater(items[a], items[b]))
        {
            if (Greater(items[b], items[c])) Swap(items, result, b);
            else if (Greater(items[a], items[c])) Swap(items, result, c);
            else Swap(items, result, a);
        }
        else if (Greater(items[a], items[c])) Swap(items, result, a);
        else if (Greater(items[b], items[c])) Swap(items, result, c);
        else Swap(items, result, b);
    }

    private static int UnguardedPartition(Span<KeyPoint> items, int first, int last, int pivot)
    {
        while (true)
        {
            while (Greater(items[first], items[pivot])) ++first;
            --last;
            while (Greater(items[pivot], items[last])) --last;
            if (!(first < last))
                return first;
            Swap(items, first, last);
            ++first;
        }
    }

    private static void InsertionSort(Span<KeyPoint> items, int first, int last)
    {
        if (first == last)
            return;
        for (int i = first + 1; i != last; ++i)
        {
            var value = items[i];
            if (Greater(value, items[first]))
            {
                items.Slice(first, i - first).CopyTo(items.Slice(first + 1, i - first));
                items[first] = value;
            }
            else
            {
                int hole = i, next = i - 1;
                while (Greater(value, items[next]))
                {
                    items[hole] = items[next];
                    hole = next;
                    --next;
                }
                items[hole] = value;
            }
        }
    }

    /// <summary>libstdc++'s std::partition (bidirectional) with response &gt;= threshold; returns the size of the first part.</summary>
    private static int Partition(Span<KeyPoint> items, float threshold)
    {
        int first = 0, last = items.Length;
        while (true)
        {
            while (true)
            {
                if (first == last) return first;
                if (items[first].Response >= threshold) ++first;
                else break;
            }
            --last;
            while (true)
            {
                if (first == last) return first;
                if (!(items[last].Response >= threshold)) --last;
                else break;
            }
            Swap(items, first, last);
            ++first;
        }
    }

    private static void Swap(Span<KeyPoint> items, int a, int b) => (items[a], items[b]) = (items[b], items[a]);

    /// <summary>
    /// ORB's Harris response of the 7x7 block around a keypoint: Sobel-like gradients summed as integers
    /// (eight columns at a time, the eighth weighted zero), then OpenCV's float expression.
    /// </summary>
    private static unsafe float HarrisResponse(LevelImage image, Point2f pt)
    {
        const int r = HarrisBlock / 2;
        int x0 = RoundToEven(pt.X), y0 = RoundToEven(pt.Y);
        int step = image.Step;
        byte* origin = (byte*)image.Data + (long)(y0 - r) * step + (x0 - r);
        var sumA = Vector256<int>.Zero;
        var sumB = Vector256<int>.Zero;
        var sumC = Vector256<int>.Zero;
        var keep = Vector256.Create(-1, -1, -1, -1, -1, -1, -1, 0);
        for (int row = 0; row < HarrisBlock; row++)
        {
            byte* p = origin + row * step;
            // Neighbours one column left and right, one row up and down, eight columns wide (the reads stay inside:
            // keypoints are 31 pixels from the level's edge).
            var left = Widen(p - 1);
            var right = Widen(p + 1);
            var upLeft = Widen(p - step - 1);
            var upRight = Widen(p - step + 1);
            var downLeft = Widen(p + step - 1);
            var downRight = Widen(p + step + 1);
            var up = Widen(p - step);
            var down = Widen(p + step);
            var ix = Avx2.Add(Avx2.Add(Avx2.ShiftLeftLogical(Avx2.Subtract(right, left), 1), Avx2.Subtract(upRight, upLeft)), Avx2.Subtract(downRight, downLeft));
            var iy = Avx2.Add(Avx2.Add(Avx2.ShiftLeftLogical(Avx2.Subtract(down, up), 1), Avx2.Subtract(downLeft, upLeft)), Avx2.Subtract(downRight, upRight));
            ix = Avx2.And(ix, keep);
            sumA = Avx2.Add(sumA, Avx2.MultiplyLow(ix, ix));
            sumB = Avx2.Add(sumB, Avx2.And(Avx2.MultiplyLow(iy, iy), keep));
            sumC = Avx2.Add(sumC, Avx2.MultiplyLow(ix, iy));
        }
        int a = Vector256.Sum(sumA), b = Vector256.Sum(sumB), c = Vector256.Sum(sumC);
        return ((float)a * b - (float)c * c - HarrisK * ((float)a + b) * ((float)a + b)) * HarrisScale;
    }

    /// <summary>OpenCV's scale_sq_sq, computed in floats at run time as it is there.</summary>
    private static readonly float HarrisScale = HarrisScaleOf(1f / ((1 << 2) * HarrisBlock * 255f));
    private static float HarrisScaleOf(float scale) => scale * scale * scale * scale;

    private static unsafe Vector256<int> Widen(byte* p) => Avx2.ConvertToVector256Int32(p);

    /// <summary>
    /// ORB's orientation: the angle of the intensity centroid over the disc of radius 15 around the keypoint
    /// (integer moments, summed a row pair at a time with SIMD), by OpenCV's fastAtan2.
    /// </summary>
    private static unsafe float Angle(LevelImage image, Point2f pt)
    {
        int step = image.Step;
        byte* center = (byte*)image.Data + (long)RoundToEven(pt.Y) * step + RoundToEven(pt.X);
        // Columns -16..15 as two halves of 16 (the disc spans -15..15; column -16 is weighted zero). The centre row
        // weighs its pixels by u; each pair of rows +-v weighs their sum by u and their difference by v.
        var m10 = Avx2.Add(Avx2.MultiplyAddAdjacent(Avx2.ConvertToVector256Int16(center - 16), DiscColumnWeights[0]),
            Avx2.MultiplyAddAdjacent(Avx2.ConvertToVector256Int16(center), DiscColumnWeights[1]));
        var m01 = Vector256<int>.Zero;
        for (int v = 1; v <= HalfPatch; v++)
        {
            var plusLo = Avx2.ConvertToVector256Int16(center + v * step - 16);
            var plusHi = Avx2.ConvertToVector256Int16(center + v * step);
            var minusLo = Avx2.ConvertToVector256Int16(center - v * step - 16);
            var minusHi = Avx2.ConvertToVector256Int16(center - v * step);
            m10 = Avx2.Add(m10, Avx2.Add(Avx2.MultiplyAddAdjacent(Avx2.Add(plusLo, minusLo), DiscColumnWeights[2 * v]),
                Avx2.MultiplyAddAdjacent(Avx2.Add(plusHi, minusHi), DiscColumnWeights[2 * v + 1])));
            m01 = Avx2.Add(m01, Avx2.Add(Avx2.MultiplyAddAdjacent(Avx2.Subtract(plusLo, minusLo), DiscRowWeights[2 * v]),
                Avx2.MultiplyAddAdjacent(Avx2.Subtract(plusHi, minusHi), DiscRowWeights[2 * v + 1])));
        }
        return FastAtan2(Vector256.Sum(m01), Vector256.Sum(m10));
    }

    /// <summary>Per row v of the disc, as two halves of columns -16..-1 and 0..15: the column u where |u| &lt;= UMax[v], else 0.</summary>
    private static readonly Vector256<short>[] DiscColumnWeights = DiscWeights((u, v) => u);

    /// <summary>As <see cref="DiscColumnWeights"/>, with the row v for weight.</summary>
    private static readonly Vector256<short>[] DiscRowWeights = DiscWeights((u, v) => v);

    private static Vector256<short>[] DiscWeights(Func<int, int, int> weight)
    {
        var rows = new Vector256<short>[2 * (HalfPatch + 1)];
        for (int v = 0; v <= HalfPatch; v++)
            for (int half = 0; half < 2; half++)
            {
                var w = new short[16];
                for (int i = 0; i < 16; i++)
                {
                    int u = half == 0 ? i - 16 : i;
                    w[i] = (short)(Math.Abs(u) <= UMax[v] ? weight(u, v) : 0);
                }
                rows[2 * v + half] = Vector256.Create(w);
            }
        return rows;
    }

    /// <summary>C's DBL_EPSILON as a float, as fastAtan2 adds it.</summary>
    private const float DblEpsilon = (float)2.220446049250313e-16;
    private static readonly float P1 = 0.9997878412794807f * (float)(180 / Math.PI);
    private static readonly float P3 = -0.3258083974640975f * (float)(180 / Math.PI);
    private static readonly float P5 = 0.1555786518463281f * (float)(180 / Math.PI);
    private static readonly float P7 = -0.04432655554792128f * (float)(180 / Math.PI);

    /// <summary>OpenCV's cv::fastAtan2 in degrees (a polynomial, accurate to about 0.3 degrees), as it computes it in floats.</summary>
    internal static float FastAtan2(float y, float x)
    {
        float ax = Math.Abs(x), ay = Math.Abs(y), a, c, c2;
        if (ax >= ay)
        {
            c = ay / (ax + DblEpsilon);
            c2 = c * c;
            a = (((P7 * c2 + P5) * c2 + P3) * c2 + P1) * c;
        }
        else
        {
            c = ax / (ay + DblEpsilon);
            c2 = c * c;
            a = 90f - (((P7 * c2 + P5) * c2 + P3) * c2 + P1) * c;
        }
        if (x < 0)
            a = 180f - a;
        if (y < 0)
            a = 360f - a;
        return a;
    }

    private static int[] BuildUMax()
    {
        var umax = new int[HalfPatch + 2];
        int vmax = (int)Math.Floor(HalfPatch * Math.Sqrt(2f) / 2 + 1);
        int vmin = (int)Math.Ceiling(HalfPatch * Math.Sqrt(2f) / 2);
        for (int v = 0; v <= vmax; ++v)
            umax[v] = (int)Math.Round(Math.Sqrt((double)HalfPatch * HalfPatch - v * v), MidpointRounding.ToEven);
        for (int v = HalfPatch, v0 = 0; v >= vmin; --v)
        {
            while (umax[v0] == umax[v0 + 1])
                ++v0;
            umax[v] = v0;
            ++v0;
        }
        return umax;
    }

    private static int RoundToEven(float v) => (int)MathF.Round(v, MidpointRounding.ToEven);

    /// <summary>
    /// Whether <see cref="Detect"/> gives OpenCV's keypoints exactly on a test picture with structure at several
    /// scales, with budgets small enough that every selection step cuts.
    /// </summary>
    private static bool AgreesWithOpenCv()
    {
        try
        {
            using var picture = CheckPictures.Textured(new Random(20261203), 480, 360, 2.0, 0.2);
            foreach (var (features, levels) in new[] { (600, 8), (3000, 6) })
            {
                using var orb = CreateOpenCvOrb(features, levels, 7);
                var theirs = orb.Detect(picture);
                using var pyramid = OrbPyramid.Build(picture, levels);
                var ours = Detect(pyramid, features, 7);
                if (ours is null || ours.Length != theirs.Length || theirs.Length < 100)
                    return false;
                for (int i = 0; i < ours.Length; i++)
                    if (ours[i].Pt != theirs[i].Pt || ours[i].Response != theirs[i].Response || ours[i].Angle != theirs[i].Angle
                        || ours[i].Octave != theirs[i].Octave || ours[i].Size != theirs[i].Size)
                        return false;
            }
            return true;
        }
        catch (OpenCvSharpException)
        {
            return false;
        }
    }
}
