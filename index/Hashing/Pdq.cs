using System.Buffers;
using System.Numerics.Tensors;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using OpenCvSharp;

namespace LeakHunter.Index.Hashing;

/// <summary>PDQ hash with its quality (0-100; below ~50 the hash says little).</summary>
public readonly record struct PdqResult(Hash256 Hash, int Quality);

/// <summary>
/// PDQ (Meta's 256-bit perceptual hash), implemented from the published algorithm: float luma,
/// picture fitted in 512x512, two passes of Jarosz box filters, decimation to 64x64, image-domain
/// quality metric, 16x16 of the 64-point DCT (skipping DC), bits set above the median.
/// </summary>
public static class Pdq
{
    private const int WindowDivisor = 128;
    private static readonly float[] DctMatrix = BuildDct(); // 16 x 64

    private static float[] BuildDct()
    {
        var d = new float[16 * 64];
        double scale = Math.Sqrt(2.0 / 64.0);
        for (int i = 0; i < 16; i++)
            for (int j = 0; j < 64; j++)
                d[i * 64 + j] = (float)(scale * Math.Cos(Math.PI / 2 / 64.0 * (i + 1) * (2 * j + 1)));
        return d;
    }

    /// <summary>PDQ of an 8-bit BGR (or gray) picture. Larger pictures are first fitted in 512x512, as the reference does.</summary>
    public static PdqResult Compute(Mat bgr)
    {
        using var filtered = Filtered(bgr);
        return HashOf(filtered.Decimate(mirror: false));
    }

    /// <summary>
    /// PDQ of a picture and of its mirror image, filtering the picture once: the mirror's 64x64 samples are read
    /// from the picture's filtered pixels in reverse order. The box filters of even width are one pixel off centre,
    /// so the samples are shifted by the difference (<see cref="FilteredLuma.Decimate"/>); the mirror's hash then
    /// differs from <see cref="ComputeMirror"/>'s only where the filters reach the picture's edges.
    /// </summary>
    public static (PdqResult Hash, Hash256 Mirror) ComputeWithMirror(Mat bgr)
    {
        using var filtered = Filtered(bgr);
        return (HashOf(filtered.Decimate(mirror: false)), BitsAboveMedian(Dct16(filtered.Decimate(mirror: true))));
    }

    /// <summary>PDQ from a row-major float luma buffer (modified in place).</summary>
    public static PdqResult FromLuma(float[] luma, int rows, int cols)
    {
        using var filtered = Filter(luma, rows, cols, pooledInput: false);
        return HashOf(filtered.Decimate(mirror: false));
    }

    /// <summary>The hash and quality of PDQ's 64x64 samples.</summary>
    private static PdqResult HashOf(float[] decimated) => new(BitsAboveMedian(Dct16(decimated)), Quality(decimated));

    private static FilteredLuma Filtered(Mat bgr)
    {
        Mat src = bgr;
        Mat? resized = null;
        try
        {
            if (bgr.Width > 512 || bgr.Height > 512)
            {
                double s = Math.Min(512.0 / bgr.Width, 512.0 / bgr.Height);
                int w = Math.Max(1, (int)Math.Round(bgr.Width * s)), h = Math.Max(1, (int)Math.Round(bgr.Height * s));
                resized = new Mat();
                Cv2.Resize(bgr, resized, new Size(w, h), 0, 0, InterpolationFlags.Area);
                src = resized;
            }
            int rows = src.Height, cols = src.Width;
            var luma = ArrayPool<float>.Shared.Rent(rows * cols);
            FillLuma(src, luma);
            return Filter(luma, rows, cols, pooledInput: true);
        }
        finally
        {
            resized?.Dispose();
        }
    }

    private static unsafe void FillLuma(Mat src, float[] luma)
    {
        int rows = src.Height, cols = src.Width, ch = src.Channels();
        if (src.Depth() != MatType.CV_8U)
            throw new ArgumentException("PDQ needs an 8-bit picture.");
        for (int y = 0; y < rows; y++)
        {
            byte* p = (byte*)src.Ptr(y);
            int o = y * cols;
            if (ch >= 3)
                for (int x = 0; x < cols; x++, p += ch)
                    luma[o + x] = 0.299f * p[2] + 0.587f * p[1] + 0.114f * p[0];
            else
                TensorPrimitives.ConvertChecked<byte, float>(new ReadOnlySpan<byte>(p, cols), luma.AsSpan(o, cols));
        }
    }

    /// <summary>
    /// Luma after PDQ's two passes of Jarosz box filters, with the width of the horizontal window. Its buffers
    /// come from the shared pool and go back on dispose: a query's are a few hundred kilobytes, and fresh ones
    /// cost about as much in page faults as the filtering itself.
    /// </summary>
    private sealed record FilteredLuma(float[] Pixels, int Rows, int Cols, int HorizontalWindow, float[] Scratch, bool PixelsPooled) : IDisposable
    {
        public void Dispose()
        {
            ArrayPool<float>.Shared.Return(Scratch);
            if (PixelsPooled)
                ArrayPool<float>.Shared.Return(Pixels);
        }

        /// <summary>
        /// The 64x64 samples PDQ takes; with <paramref name="mirror"/>, those of the mirror image. A window of even
        /// width w covers w/2 pixels after its centre and w/2 - 1 before it, so filtering the mirror image equals
        /// filtering the picture shifted by one pixel per pass.
        /// </summary>
        public float[] Decimate(bool mirror)
        {
            int shift = mirror && HorizontalWindow % 2 == 0 ? 2 : 0;
            var a = new float[64 * 64];
            for (int i = 0; i < 64; i++)
            {
                int ini = (int)((i + 0.5) * Rows / 64);
                for (int j = 0; j < 64; j++)
                {
                    int inj = (int)((j + 0.5) * Cols / 64);
                    if (mirror)
                        inj = Math.Clamp(Cols - 1 - inj - shift, 0, Cols - 1);
                    a[i * 64 + j] = Pixels[ini * Cols + inj];
                }
            }
            return a;
        }
    }

    private static FilteredLuma Filter(float[] buf1, int rows, int cols, bool pooledInput)
    {
        var buf2 = ArrayPool<float>.Shared.Rent(rows * cols);
        int winAlongRows = (cols + WindowDivisor - 1) / WindowDivisor;
        int winAlongCols = (rows + WindowDivisor - 1) / WindowDivisor;
        for (int pass = 0; pass < 2; pass++)
        {
            BoxRows(buf1, buf2, rows, cols, winAlongRows);
            BoxColumns(buf2, buf1, rows, cols, winAlongCols);
        }
        return new FilteredLuma(buf1, rows, cols, winAlongRows, buf2, pooledInput);
    }

    /// <summary>
    /// The 16x16 DCT coefficients PDQ thresholds (DC skipped): B = D A D^t. Each coefficient is summed over k in
    /// order, as the plain triple loop does, but 16 or 64 of them at a time: a row of T is a sum of rows of A, and a
    /// row of B a sum of rows of D^t, each scaled by one number. Multiplications and additions stay separate
    /// (never fused), so the floats, and the hash, are the plain loop's.
    /// </summary>
    private static unsafe float[] Dct16(float[] a)
    {
        if (!Vector512.IsHardwareAccelerated)
            return Dct16Rows(a);
        // A row of T (64 floats) stays in four registers while the 64 rows of A are added into it, and a row of B in one.
        var b = new float[256];
        float* t = stackalloc float[64];
        fixed (float* pa = a, d = DctMatrix, dt = DctTransposed, pb = b)
            for (int i = 0; i < 16; i++)
            {
                Vector512<float> t0 = default, t1 = default, t2 = default, t3 = default;
                for (int k = 0; k < 64; k++)
                {
                    var scale = Vector512.Create(d[i * 64 + k]);
                    float* row = pa + k * 64;
                    t0 += scale * Vector512.Load(row);
                    t1 += scale * Vector512.Load(row + 16);
                    t2 += scale * Vector512.Load(row + 32);
                    t3 += scale * Vector512.Load(row + 48);
                }
                t0.Store(t);
                t1.Store(t + 16);
                t2.Store(t + 32);
                t3.Store(t + 48);
                Vector512<float> coefficients = default;
                for (int k = 0; k < 64; k++)
                    coefficients += Vector512.Create(t[k]) * Vector512.Load(dt + k * 16);
                coefficients.Store(pb + i * 16);
            }
        return b;
    }

    /// <summary><see cref="Dct16"/> a row at a time, where 512-bit vectors are not available.</summary>
    private static float[] Dct16Rows(float[] a)
    {
        var t = new float[16 * 64];
        for (int i = 0; i < 16; i++)
        {
            var row = t.AsSpan(i * 64, 64);
            for (int k = 0; k < 64; k++)
                AddScaled(row, DctMatrix[i * 64 + k], a.AsSpan(k * 64, 64));
        }
        var b = new float[256];
        for (int i = 0; i < 16; i++)
        {
            var row = b.AsSpan(i * 16, 16);
            for (int k = 0; k < 64; k++)
                AddScaled(row, t[i * 64 + k], DctTransposed.AsSpan(k * 16, 16));
        }
        return b;
    }

    /// <summary>D^t (64 x 16), for the second product of <see cref="Dct16"/>.</summary>
    private static readonly float[] DctTransposed = Enumerable.Range(0, 64 * 16).Select(n => DctMatrix[n % 16 * 64 + n / 16]).ToArray();

    /// <summary>sum[j] += scale * row[j], multiplying and adding separately.</summary>
    private static void AddScaled(Span<float> sum, float scale, ReadOnlySpan<float> row)
    {
        for (int j = 0; j < sum.Length; j++)
            sum[j] += scale * row[j];
    }

    private static Hash256 BitsAboveMedian(float[] b)
    {
        var sorted = (float[])b.Clone();
        Array.Sort(sorted);
        float median = sorted[127]; // lower median, as Torben's method returns for an even count
        var words = new ushort[16];
        for (int k = 0; k < 256; k++)
            if (b[k] > median)
                words[k >> 4] |= (ushort)(1 << (k & 15));
        // hex form prints word 15 first
        ulong P(int hi) => (ulong)words[hi] << 48 | (ulong)words[hi - 1] << 32 | (ulong)words[hi - 2] << 16 | words[hi - 3];
        return new Hash256(P(15), P(11), P(7), P(3));
    }

    private static unsafe int Quality(float[] a)
    {
        int sum = 0, j0 = 0;
        if (Avx2.IsSupported)
        {
            // Eight differences at a time, each scaled, truncated and made positive as the plain loop does it.
            var hundred = Vector256.Create(100f);
            var range = Vector256.Create(255f);
            var total = Vector256<int>.Zero;
            fixed (float* p = a)
            {
                for (int i = 0; i < 63; i++)
                    for (int j = 0; j < 64; j += 8)
                        total += Avx2.Abs(Avx.ConvertToVector256Int32WithTruncation(
                            (Avx.LoadVector256(p + i * 64 + j) - Avx.LoadVector256(p + (i + 1) * 64 + j)) * hundred / range)).AsInt32();
                for (int i = 0; i < 64; i++)
                    for (int j = 0; j < 56; j += 8)
                        total += Avx2.Abs(Avx.ConvertToVector256Int32WithTruncation(
                            (Avx.LoadVector256(p + i * 64 + j) - Avx.LoadVector256(p + i * 64 + j + 1)) * hundred / range)).AsInt32();
            }
            sum = Vector256.Sum(total);
            j0 = 56; // the horizontal differences left: columns 56 to 62
        }
        else
            for (int i = 0; i < 63; i++)
                for (int j = 0; j < 64; j++)
                    sum += Math.Abs((int)((a[i * 64 + j] - a[(i + 1) * 64 + j]) * 100 / 255));
        for (int i = 0; i < 64; i++)
            for (int j = j0; j < 63; j++)
                sum += Math.Abs((int)((a[i * 64 + j] - a[i * 64 + j + 1]) * 100 / 255));
        return Math.Min(100, sum / 90);
    }

    /// <summary>PDQ's Jarosz box filter along one row (see <see cref="BoxColumns"/> for the columns).</summary>
    internal static void BoxRow(float[] input, int inStart, float[] output, int outStart, int length, int fullWindow)
    {
        int half = (fullWindow + 2) / 2;
        int p1 = half - 1, p2 = fullWindow - half + 1, p3 = length - fullWindow, p4 = half - 1;
        int li = 0, ri = 0, oi = 0, cur = 0;
        float sum = 0;
        for (int i = 0; i < p1; i++) { sum += input[inStart + ri++]; cur++; }
        for (int i = 0; i < p2; i++) { sum += input[inStart + ri++]; cur++; output[outStart + oi++] = sum / cur; }
        for (int i = 0; i < p3; i++) { sum += input[inStart + ri++]; sum -= input[inStart + li++]; output[outStart + oi++] = sum / cur; }
        for (int i = 0; i < p4; i++) { sum -= input[inStart + li++]; cur--; output[outStart + oi++] = sum / cur; }
    }

    /// <summary>
    /// <see cref="BoxRow"/> along every row: four rows at a time, whose running sums are independent (one row's sum
    /// waits on its own previous addition each step), and the long middle stretch's divisions by one window size done
    /// afterwards with SIMD. The same additions, subtractions and divisions per row in the same order, so the same floats.
    /// </summary>
    internal static unsafe void BoxRows(float[] input, float[] output, int rows, int cols, int fullWindow)
    {
        int half = (fullWindow + 2) / 2;
        int p1 = half - 1, p2 = fullWindow - half + 1, p3 = cols - fullWindow, p4 = half - 1;
        int row = 0;
        if (p3 > 0)
            fixed (float* inputStart = input, outputStart = output)
                for (; row + 4 <= rows; row += 4)
                {
                    float* i0 = inputStart + row * cols, i1 = i0 + cols, i2 = i1 + cols, i3 = i2 + cols;
                    float* o0 = outputStart + row * cols, o1 = o0 + cols, o2 = o1 + cols, o3 = o2 + cols;
                    float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
                    int li = 0, ri = 0, oi = 0, cur = 0;
                    for (int i = 0; i < p1; i++, ri++, cur++)
                    {
                        s0 += i0[ri]; s1 += i1[ri]; s2 += i2[ri]; s3 += i3[ri];
                    }
                    for (int i = 0; i < p2; i++, ri++, oi++)
                    {
                        s0 += i0[ri]; s1 += i1[ri]; s2 += i2[ri]; s3 += i3[ri];
                        cur++;
                        o0[oi] = s0 / cur; o1[oi] = s1 / cur; o2[oi] = s2 / cur; o3[oi] = s3 / cur;
                    }
                    int middle = oi;
                    for (int i = 0; i < p3; i++, ri++, li++, oi++)
                    {
                        s0 += i0[ri]; s1 += i1[ri]; s2 += i2[ri]; s3 += i3[ri];
                        s0 -= i0[li]; s1 -= i1[li]; s2 -= i2[li]; s3 -= i3[li];
                        o0[oi] = s0; o1[oi] = s1; o2[oi] = s2; o3[oi] = s3; // divided below
                    }
                    for (int r = 0; r < 4; r++)
                    {
                        var sums = output.AsSpan((row + r) * cols + middle, p3);
                        TensorPrimitives.Divide(sums, cur, sums);
                    }
                    for (int i = 0; i < p4; i++, li++, oi++)
                    {
                        s0 -= i0[li]; s1 -= i1[li]; s2 -= i2[li]; s3 -= i3[li];
                        cur--;
                        o0[oi] = s0 / cur; o1[oi] = s1 / cur; o2[oi] = s2 / cur; o3[oi] = s3 / cur;
                    }
                }
        for (; row < rows; row++)
            BoxRow(input, row * cols, output, row * cols, cols, fullWindow);
    }

    /// <summary>
    /// <see cref="BoxRow"/> down every column at once: the same additions, subtractions and divisions per column in the
    /// same order (so the same floats), done a row at a time with SIMD instead of striding down each column.
    /// </summary>
    private static void BoxColumns(float[] input, float[] output, int rows, int cols, int fullWindow)
    {
        int half = (fullWindow + 2) / 2;
        int p1 = half - 1, p2 = fullWindow - half + 1, p3 = rows - fullWindow, p4 = half - 1;
        var sums = ArrayPool<float>.Shared.Rent(cols);
        try
        {
            var sum = sums.AsSpan(0, cols);
            sum.Clear();
            Span<float> Row(float[] buffer, int row) => buffer.AsSpan(row * cols, cols);
            int li = 0, ri = 0, oi = 0, cur = 0;
            for (int i = 0; i < p1; i++) { TensorPrimitives.Add(sum, Row(input, ri++), sum); cur++; }
            for (int i = 0; i < p2; i++) { TensorPrimitives.Add(sum, Row(input, ri++), sum); cur++; TensorPrimitives.Divide(sum, cur, Row(output, oi++)); }
            for (int i = 0; i < p3; i++)
            {
                TensorPrimitives.Add(sum, Row(input, ri++), sum);
                TensorPrimitives.Subtract(sum, Row(input, li++), sum);
                TensorPrimitives.Divide(sum, cur, Row(output, oi++));
            }
            for (int i = 0; i < p4; i++) { TensorPrimitives.Subtract(sum, Row(input, li++), sum); cur--; TensorPrimitives.Divide(sum, cur, Row(output, oi++)); }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(sums);
        }
    }

    /// <summary>Hash of the mirrored picture, exactly (computed on the flipped pixels).</summary>
    public static PdqResult ComputeMirror(Mat bgr)
    {
        using var flipped = new Mat();
        Cv2.Flip(bgr, flipped, FlipMode.Y);
        return Compute(flipped);
    }
}
