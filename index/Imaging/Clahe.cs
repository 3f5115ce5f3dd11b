using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using OpenCvSharp;

namespace LeakHunter.Index.Imaging;

/// <summary>
/// OpenCV's contrast-limited adaptive histogram equalisation (<c>createCLAHE(2.0, 8x8)</c>) of an 8-bit gray picture,
/// with the same result to the bit: per tile of an 8x8 grid (over the picture padded by reflection to a multiple of the
/// grid, as OpenCV pads it), a histogram clipped at twice the mean count with the excess spread as OpenCV spreads it, its
/// cumulative sum as a lookup table; each pixel then interpolated between the four nearest tiles' tables in floats, in
/// OpenCV's order of operations. Used only where <see cref="Available"/>: it matched OpenCV on test pictures at first use.
/// </summary>
internal static class Clahe
{
    private const double ClipLimit = 2.0;
    private const int Tiles = 8;
    private const int Levels = 256;

    private static readonly Lazy<bool> Verified = new(AgreesWithOpenCv);

    public static bool Available => Verified.Value;

    /// <summary>The equalised picture (a new Mat).</summary>
    public static Mat Apply(Mat gray) => Available ? Equalise(gray) : WithOpenCv(gray);

    private static Mat WithOpenCv(Mat gray)
    {
        using var clahe = Cv2.CreateCLAHE(ClipLimit, new Size(Tiles, Tiles));
        var result = new Mat();
        clahe.Apply(gray, result);
        return result;
    }

    private static unsafe Mat Equalise(Mat gray)
    {
        if (gray.Type() != MatType.CV_8UC1)
            throw new ArgumentException("CLAHE needs an 8-bit gray picture", nameof(gray));
        int width = gray.Width, height = gray.Height;
        using var padded = width % Tiles == 0 && height % Tiles == 0 ? null : new Mat();
        if (padded is not null)
            Cv2.CopyMakeBorder(gray, padded, 0, Tiles - height % Tiles, 0, Tiles - width % Tiles, BorderTypes.Reflect101);
        var forTables = padded ?? gray;
        int tileWidth = forTables.Width / Tiles, tileHeight = forTables.Height / Tiles;
        var tables = TileTables(forTables, tileWidth, tileHeight);

        var result = new Mat(height, width, MatType.CV_8UC1);
        // Per column: the two tiles' table offsets and their weights, as OpenCV precomputes them.
        var left = new int[width];
        var right = new int[width];
        var rightWeight = new float[width];
        var leftWeight = new float[width];
        float inverseTileWidth = 1.0f / tileWidth;
        for (int x = 0; x < width; x++)
        {
            float txf = x * inverseTileWidth - 0.5f;
            int tx1 = (int)MathF.Floor(txf);
            int tx2 = tx1 + 1;
            rightWeight[x] = txf - tx1;
            leftWeight[x] = 1.0f - rightWeight[x];
            left[x] = Math.Max(tx1, 0) * Levels;
            right[x] = Math.Min(tx2, Tiles - 1) * Levels;
        }
        float inverseTileHeight = 1.0f / tileHeight;
        int sourceStep = (int)gray.Step(), resultStep = (int)result.Step();
        byte* source = (byte*)gray.Data, output = (byte*)result.Data;
        fixed (byte* table = tables)
            for (int y = 0; y < height; y++)
            {
                float tyf = y * inverseTileHeight - 0.5f;
                int ty1 = (int)MathF.Floor(tyf);
                int ty2 = ty1 + 1;
                float lowerWeight = tyf - ty1, upperWeight = 1.0f - lowerWeight;
                byte* upper = table + Math.Max(ty1, 0) * Tiles * Levels;
                byte* lower = table + Math.Min(ty2, Tiles - 1) * Tiles * Levels;
                byte* sourceRow = source + (long)y * sourceStep;
                byte* outputRow = output + (long)y * resultStep;
                int x = 0;
                if (Avx2.IsSupported)
                    x = InterpolateEight(sourceRow, outputRow, width, upper, lower, left, right, leftWeight, rightWeight, upperWeight, lowerWeight);
                for (; x < width; x++)
                {
                    int value = sourceRow[x];
                    int a = left[x] + value, b = right[x] + value;
                    float res = (upper[a] * leftWeight[x] + upper[b] * rightWeight[x]) * upperWeight
                              + (lower[a] * leftWeight[x] + lower[b] * rightWeight[x]) * lowerWeight;
                    outputRow[x] = SaturateRound(res);
                }
            }
        return result;
    }

    /// <summary>
    /// The scalar loop's interpolation eight pixels at a time, the same float multiplications and additions in the same
    /// order (never fused) and the same rounding; the four tables' entries are fetched by gathers. Returns the first
    /// column left undone.
    /// </summary>
    private static unsafe int InterpolateEight(byte* sourceRow, byte* outputRow, int width, byte* upper, byte* lower,
        int[] left, int[] right, float[] leftWeight, float[] rightWeight, float upperWeight, float lowerWeight)
    {
        var lowByte = Vector256.Create(0xFF);
        var uw = Vector256.Create(upperWeight);
        var dw = Vector256.Create(lowerWeight);
        int x = 0;
        fixed (int* l = left, r = right)
        fixed (float* lw = leftWeight, rw = rightWeight)
            for (; x + 8 <= width; x += 8)
            {
                var value = Avx2.ConvertToVector256Int32(sourceRow + x);
                var a = Avx2.Add(Avx.LoadVector256(l + x), value);
                var b = Avx2.Add(Avx.LoadVector256(r + x), value);
                // A 4-byte gather at each entry's address; its low byte is the entry (the tables are padded at the end).
                var ua = Avx.ConvertToVector256Single(Avx2.And(Avx2.GatherVector256((int*)upper, a, 1), lowByte));
                var ub = Avx.ConvertToVector256Single(Avx2.And(Avx2.GatherVector256((int*)upper, b, 1), lowByte));
                var da = Avx.ConvertToVector256Single(Avx2.And(Avx2.GatherVector256((int*)lower, a, 1), lowByte));
                var db = Avx.ConvertToVector256Single(Avx2.And(Avx2.GatherVector256((int*)lower, b, 1), lowByte));
                var wl = Avx.LoadVector256(lw + x);
                var wr = Avx.LoadVector256(rw + x);
                var res = Avx.Add(Avx.Multiply(Avx.Add(Avx.Multiply(ua, wl), Avx.Multiply(ub, wr)), uw),
                                  Avx.Multiply(Avx.Add(Avx.Multiply(da, wl), Avx.Multiply(db, wr)), dw));
                var rounded = Avx.ConvertToVector256Int32(res); // nearest, ties to even, as cvRound
                var clamped = Avx2.Min(Avx2.Max(rounded, Vector256<int>.Zero), Vector256.Create(255));
                var words = Avx2.PackSignedSaturate(clamped, clamped); // lanes 0-3 and 4-7 of each half
                var bytes = Avx2.PackUnsignedSaturate(words, words);
                *(uint*)(outputRow + x) = bytes.AsUInt32().GetElement(0);
                *(uint*)(outputRow + x + 4) = bytes.AsUInt32().GetElement(4);
            }
        return x;
    }

    /// <summary>Each tile's lookup table (256 entries, tiles row by row): its clipped histogram's cumulative sum, scaled to 0..255.</summary>
    private static unsafe byte[] TileTables(Mat picture, int tileWidth, int tileHeight)
    {
        int total = tileWidth * tileHeight;
        float scale = (float)(Levels - 1) / total;
        int clip = Math.Max((int)(ClipLimit * total / Levels), 1);
        var tables = new byte[Tiles * Tiles * Levels + 3]; // + 3: gathers read four bytes at the last entry
        var histogram = new int[Levels];
        int step = (int)picture.Step();
        byte* data = (byte*)picture.Data;
        for (int tile = 0; tile < Tiles * Tiles; tile++)
        {
            int tx = tile % Tiles, ty = tile / Tiles;
            Array.Clear(histogram);
            for (int y = 0; y < tileHeight; y++)
            {
                byte* row = data + (long)(ty * tileHeight + y) * step + tx * tileWidth;
                for (int x = 0; x < tileWidth; x++)
                    histogram[row[x]]++;
            }
            int clipped = 0;
            for (int i = 0; i < Levels; i++)
                if (histogram[i] > clip)
                {
                    clipped += histogram[i] - clip;
                    histogram[i] = clip;
                }
            int batch = clipped / Levels, residual = clipped - batch * Levels;
            for (int i = 0; i < Levels; i++)
                histogram[i] += batch;
            if (residual != 0)
            {
                int residualStep = Math.Max(Levels / residual, 1);
                for (int i = 0; i < Levels && residual > 0; i += residualStep, residual--)
                    histogram[i]++;
            }
            int sum = 0;
            for (int i = 0; i < Levels; i++)
            {
                sum += histogram[i];
                tables[tile * Levels + i] = SaturateRound(sum * scale);
            }
        }
        return tables;
    }

    /// <summary>OpenCV's saturate_cast&lt;uchar&gt;(float): rounded half to even, clamped to 0..255.</summary>
    private static byte SaturateRound(float value)
    {
        int rounded = Sse.IsSupported ? Sse.ConvertToInt32(Vector128.CreateScalarUnsafe(value)) : (int)MathF.Round(value);
        return (byte)Math.Clamp(rounded, 0, 255);
    }

    /// <summary>Whether <see cref="Equalise"/> gives OpenCV's result on test pictures of sizes on and off the grid.</summary>
    private static bool AgreesWithOpenCv()
    {
        try
        {
            var rng = new Random(20261205);
            foreach (var (w, h) in new[] { (320, 240), (251, 187), (64, 61) })
            {
                using var picture = CheckPictures.Textured(rng, w, h, 3.0, 0.1);
                using var theirs = WithOpenCv(picture);
                using var ours = Equalise(picture);
                if (!MatBytes.Of(theirs).AsSpan().SequenceEqual(MatBytes.Of(ours)))
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
