using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace LeakHunter.Index.Imaging;

/// <summary>
/// OpenCV's <c>warpPerspective</c> of an 8-bit gray picture with bilinear interpolation and a constant black
/// border, computed here, pixel for pixel as OpenCV computes it: the matrix inverted by the adjugate as OpenCV
/// inverts a 3x3, source positions in 1/32 pixel rounded to nearest-even, block by block as OpenCV's warp walks
/// the output (64 x 16), and fixed-point weights summing to 2^15. Why: the whole-frame comparison warps a
/// thumbnail onto a 128-pixel one several times per query, where OpenCV spends about 0.1 ms per call mostly
/// on setting up blocks, remap tables and threads for a few thousand pixels.
/// </summary>
internal static class BilinearWarp
{
    private const int InterBits = 5, InterTabSize = 1 << InterBits;
    private const int BlockSize = 32;

    /// <summary>
    /// The output (<paramref name="dstWidth"/> x <paramref name="dstHeight"/>, row-major) of warping
    /// <paramref name="src"/> by <paramref name="srcToDst"/> (row-major 3x3); false when the matrix is singular.
    /// </summary>
    public static unsafe bool TryWarp(ReadOnlySpan<byte> src, int srcWidth, int srcHeight, int srcStride, double[] srcToDst,
        Span<byte> dst, int dstWidth, int dstHeight)
    {
        if (!TryInvert(srcToDst, out var m))
            return false;
        int blockRows = Math.Min(BlockSize / 2, dstHeight);
        int blockCols = Math.Min(BlockSize * BlockSize / Math.Max(1, blockRows), dstWidth);
        fixed (byte* s = src)
        fixed (byte* d = dst)
        {
            var source = new Source(s, srcWidth, srcHeight, srcStride);
            if (m[1] == 0 && m[3] == 0 && m[6] == 0 && m[7] == 0)
            {
                WarpScaled(source, m, d, dstWidth, dstHeight, blockCols);
                return true;
            }
            for (int y = 0; y < dstHeight; y++)
            {
                byte* row = d + y * dstWidth;
                for (int xb = 0; xb < dstWidth; xb += blockCols)
                {
                    int bw = Math.Min(blockCols, dstWidth - xb);
                    double x0 = m[0] * xb + m[1] * y + m[2];
                    double y0 = m[3] * xb + m[4] * y + m[5];
                    double w0 = m[6] * xb + m[7] * y + m[8];
                    // Without perspective, w0 + 0 * x1 is w0 along the block: one division for all of it.
                    double blockW = w0 != 0 ? InterTabSize / w0 : 0;
                    for (int x1 = 0; x1 < bw; x1++)
                    {
                        double w = blockW;
                        if (m[6] != 0)
                        {
                            w = w0 + m[6] * x1;
                            w = w != 0 ? InterTabSize / w : 0;
                        }
                        row[xb + x1] = source.Sample(Round((x0 + m[0] * x1) * w), Round((y0 + m[3] * x1) * w));
                    }
                }
            }
        }
        return true;
    }

    /// <summary>
    /// A map that only scales and shifts each axis: the terms OpenCV adds for the other axis are zeros, so a column's
    /// source position is the same in every row and a row's in every column; each is computed once.
    /// </summary>
    private static unsafe void WarpScaled(Source source, double[] m, byte* dst, int dstWidth, int dstHeight, int blockCols)
    {
        double w = m[8] != 0 ? InterTabSize / m[8] : 0;
        Span<int> columns = dstWidth <= 1024 ? stackalloc int[dstWidth] : new int[dstWidth];
        for (int x = 0; x < dstWidth; x++)
        {
            int xb = x / blockCols * blockCols;
            double x0 = m[0] * xb + m[1] * 0 + m[2];
            columns[x] = Round((x0 + m[0] * (x - xb)) * w);
        }
        // The columns whose four neighbours lie inside the source in x (sx <= width - 2) form one run: positions grow with x.
        int innerStart = 0, innerEnd = dstWidth;
        while (innerStart < dstWidth && (uint)(columns[innerStart] >> InterBits) >= (uint)(source.Width - 1)) innerStart++;
        while (innerEnd > innerStart && (uint)(columns[innerEnd - 1] >> InterBits) >= (uint)(source.Width - 1)) innerEnd--;
        bool monotonic = true;
        for (int x = innerStart + 1; x < innerEnd; x++) monotonic &= columns[x] >= columns[x - 1];
        for (int y = 0; y < dstHeight; y++)
        {
            int fixedY = Round((m[3] * 0 + m[4] * y + m[5]) * w);
            byte* row = dst + y * dstWidth;
            int x = 0;
            if (monotonic && Avx2.IsSupported && source.Height > 2 && (uint)(fixedY >> InterBits) < (uint)(source.Height - 2))
            {
                // Inner rows away from the last source row: eight pixels at a time (the 4-byte loads stay inside the source).
                for (; x < innerStart; x++) row[x] = source.Sample(columns[x], fixedY);
                for (; x + 8 <= innerEnd; x += 8) source.SampleEight(columns.Slice(x, 8), fixedY, row + x);
            }
            for (; x < dstWidth; x++)
                row[x] = source.Sample(columns[x], fixedY);
        }
    }

    /// <summary>Round to nearest, ties to even (as cvRound and the SSE conversions do), saturated to int.</summary>
    private static int Round(double v) => v >= int.MaxValue ? int.MaxValue : v <= int.MinValue ? int.MinValue : (int)Math.Round(v);

    private readonly unsafe struct Source(byte* pixels, int width, int height, int stride)
    {
        public int Width => width;
        public int Height => height;

        /// <summary>
        /// <see cref="Sample"/> for eight columns of one row whose four neighbours are all inside the source, with the
        /// same integer sums: (p00 (32 - fx) + p01 fx)(32 - fy) + (p10 (32 - fx) + p11 fx) fy.
        /// </summary>
        public void SampleEight(ReadOnlySpan<int> fixedX, int fixedY, byte* output)
        {
            var fx = Vector256.Create(fixedX);
            int y = fixedY >> InterBits, fy = fixedY & (InterTabSize - 1);
            var sx = Avx2.ShiftRightArithmetic(fx, InterBits);
            var wx1 = Avx2.And(fx, Vector256.Create(InterTabSize - 1));
            var wx0 = Avx2.Subtract(Vector256.Create(InterTabSize), wx1);
            var top = Avx2.GatherVector256((int*)(pixels + y * stride), sx, 1);
            var bottom = Avx2.GatherVector256((int*)(pixels + (y + 1) * stride), sx, 1);
            var lowByte = Vector256.Create(0xFF);
            var upper = Avx2.Add(Avx2.MultiplyLow(Avx2.And(top, lowByte), wx0), Avx2.MultiplyLow(Avx2.And(Avx2.ShiftRightLogical(top, 8), lowByte), wx1));
            var lower = Avx2.Add(Avx2.MultiplyLow(Avx2.And(bottom, lowByte), wx0), Avx2.MultiplyLow(Avx2.And(Avx2.ShiftRightLogical(bottom, 8), lowByte), wx1));
            var sum = Avx2.Add(Avx2.MultiplyLow(upper, Vector256.Create(InterTabSize - fy)), Avx2.MultiplyLow(lower, Vector256.Create(fy)));
            var value = Avx2.ShiftRightArithmetic(Avx2.Add(sum, Vector256.Create(1 << 9)), 10);
            for (int i = 0; i < 8; i++) output[i] = (byte)Math.Min(255, value.GetElement(i));
        }

        /// <summary>One output pixel from a source position in 1/32 pixel: four neighbours (black outside) weighted in 2^15ths.</summary>
        public byte Sample(int fixedX, int fixedY)
        {
            int x = Math.Clamp(fixedX >> InterBits, short.MinValue, short.MaxValue), y = Math.Clamp(fixedY >> InterBits, short.MinValue, short.MaxValue);
            int fx = fixedX & (InterTabSize - 1), fy = fixedY & (InterTabSize - 1);
            // (1 - fx)(1 - fy) etc. in 1/1024 are exact; OpenCV's weights are these times 32, so the rounding shift is 10 bits.
            int w00 = (InterTabSize - fx) * (InterTabSize - fy), w01 = fx * (InterTabSize - fy), w10 = (InterTabSize - fx) * fy, w11 = fx * fy;
            int sum;
            if ((uint)x < (uint)(width - 1) && (uint)y < (uint)(height - 1))
            {
                byte* p = pixels + y * stride + x;
                sum = p[0] * w00 + p[1] * w01 + p[stride] * w10 + p[stride + 1] * w11;
            }
            else if (x >= width || x + 1 < 0 || y >= height || y + 1 < 0)
                return 0;
            else
                sum = At(x, y) * w00 + At(x + 1, y) * w01 + At(x, y + 1) * w10 + At(x + 1, y + 1) * w11;
            return (byte)Math.Min(255, (sum + (1 << 9)) >> 10);
        }

        private int At(int x, int y) => x >= 0 && x < width && y >= 0 && y < height ? pixels[y * stride + x] : 0;
    }

    /// <summary>A 3x3 inverse as OpenCV's invert computes it for 3x3 doubles (adjugate over the determinant).</summary>
    private static bool TryInvert(double[] s, out double[] t)
    {
        t = new double[9];
        double d = s[0] * (s[4] * s[8] - s[5] * s[7]) - s[1] * (s[3] * s[8] - s[5] * s[6]) + s[2] * (s[3] * s[7] - s[4] * s[6]);
        if (d == 0)
            return false;
        d = 1.0 / d;
        t[0] = (s[4] * s[8] - s[5] * s[7]) * d;
        t[1] = (s[2] * s[7] - s[1] * s[8]) * d;
        t[2] = (s[1] * s[5] - s[2] * s[4]) * d;
        t[3] = (s[5] * s[6] - s[3] * s[8]) * d;
        t[4] = (s[0] * s[8] - s[2] * s[6]) * d;
        t[5] = (s[2] * s[3] - s[0] * s[5]) * d;
        t[6] = (s[3] * s[7] - s[4] * s[6]) * d;
        t[7] = (s[1] * s[6] - s[0] * s[7]) * d;
        t[8] = (s[0] * s[4] - s[1] * s[3]) * d;
        return true;
    }
}
