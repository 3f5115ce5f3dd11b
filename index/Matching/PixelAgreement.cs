using LeakHunter.Index.Imaging;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using OpenCvSharp;

namespace LeakHunter.Index.Matching;

/// <summary>
/// Whether the pixels agree where a homography says a query shows an original: the query is warped
/// onto a small gray thumbnail of the original, an 8x8 grid is laid over it, and every cell that the
/// query covers and that has texture in the original is compared by normalised cross-correlation
/// (insensitive to brightness, contrast and most colour changes). The share of such cells that
/// correlate is the agreement.
/// <para>Why: inliers alone can come from a caption or logo two different photos share; then only
/// those few cells agree and the rest of the picture contradicts the match. A true copy agrees
/// wherever it shows the original, even when a sticker hides the part with most of the corners.</para>
/// </summary>
internal static class PixelAgreement
{
    /// <summary>Long side of the thumbnail kept per original.</summary>
    public const int ThumbnailLongSide = 128;
    internal const int Grid = 8;
    /// <summary>Gray-level standard deviation below which a cell is flat (no evidence either way).</summary>
    private const double MinTexture = 6;
    /// <summary>Standard deviation beyond the plane below which a cell says nothing when ramps are removed.</summary>
    private const double MinDetail = 2;
    /// <summary>Correlation above which a cell agrees.</summary>
    private const double MinCorrelation = 0.5;
    /// <summary>
    /// Agreement below which the pixels contradict the inliers. Two photos sharing a caption or logo
    /// agree on 0-5 % of cells; true copies on dev (stickers over the detailed part included) on at least 20 %.
    /// </summary>
    public const double Contradiction = 0.12;
    /// <summary>Agreement that stands in for spread inliers: a copy whose sticker hides most corners agrees on 55-65 % of cells.</summary>
    public const double Confirmation = 0.55;
    /// <summary>Visible textured cells needed for a verdict.</summary>
    private const int MinCells = 4;

    /// <summary>
    /// A gray thumbnail of a BGR (or already gray) picture, area-averaged to the given long side (or, for a picture smaller
    /// than that, enlarged smoothly: area sampling would enlarge it into blocks that no original's thumbnail has).
    /// </summary>
    public static Mat Thumbnail(Mat bgr, int longSide = ThumbnailLongSide)
    {
        double s = (double)longSide / Math.Max(bgr.Width, bgr.Height);
        using var converted = bgr.Channels() == 1 ? null : new Mat();
        if (converted is not null)
            Cv2.CvtColor(bgr, converted, ColorConversionCodes.BGR2GRAY);
        var gray = converted ?? bgr;
        var thumb = new Mat();
        Cv2.Resize(gray, thumb, new Size(Math.Max(1, (int)Math.Round(bgr.Width * s)), Math.Max(1, (int)Math.Round(bgr.Height * s))), 0, 0,
            s > 1 ? InterpolationFlags.Cubic : InterpolationFlags.Area);
        return thumb;
    }

    /// <summary>
    /// Cells that agree and cells judged, or null when fewer than <see cref="MinCells"/> visible cells
    /// have texture. <paramref name="queryToOriginal"/> maps query thumbnail pixels to original
    /// thumbnail pixels.
    /// </summary>
    public static (int Agreeing, int Judged)? Measure(Mat queryThumb, GrayPixels originalThumb, double[] queryToOriginal)
    {
        var (agreeing, judged) = Tally(Cells(queryThumb, originalThumb, queryToOriginal, removeRamps: false));
        return judged < MinCells ? null : (agreeing, judged);
    }

    public enum CellVerdict : byte { Unjudged, Agrees, Differs }

    /// <summary>How many cells agree, and how many were judged at all.</summary>
    public static (int Agreeing, int Judged) Tally(IReadOnlyList<CellVerdict> cells)
    {
        int agreeing = 0, judged = 0;
        for (int i = 0; i < cells.Count; i++)
        {
            agreeing += cells[i] == CellVerdict.Agrees ? 1 : 0;
            judged += cells[i] != CellVerdict.Unjudged ? 1 : 0;
        }
        return (agreeing, judged);
    }

    /// <summary>
    /// The verdict on every cell of the grid, row by row: the normalised cross-correlation of the cell's pixels
    /// in the warped query and in the original. With <paramref name="removeRamps"/> each side's best-fitting
    /// plane (mean and linear ramp) is removed first, not only its mean: a ramp is what two unrelated smooth
    /// pictures (skies, gradient wallpapers) share, so without geometry to back the comparison only the
    /// structure beyond it is evidence, and a cell that is a plane in the original is not judged.
    /// </summary>
    public static CellVerdict[] Cells(Mat queryThumb, Mat originalThumb, double[] queryToOriginal, bool removeRamps) =>
        Cells(queryThumb, new GrayPixels(MatBytes.Of(originalThumb), originalThumb.Width, originalThumb.Height), queryToOriginal, removeRamps);

    /// <inheritdoc cref="Cells(Mat, Mat, double[], bool)"/>
    public static CellVerdict[] Cells(Mat queryThumb, GrayPixels originalThumb, double[] queryToOriginal, bool removeRamps)
    {
        double minTexture = removeRamps ? MinDetail : MinTexture;
        var size = new Size(originalThumb.Width, originalThumb.Height);
        var q = Warp(queryThumb, queryToOriginal, size);
        var o = originalThumb.Pixels;
        var shown = ShowsAll(queryToOriginal, queryThumb.Size(), size) ? null : ShownMask(queryToOriginal, queryThumb.Size(), size);
        int w = size.Width;
        var verdicts = new CellVerdict[Grid * Grid];
        for (int gy = 0; gy < Grid; gy++)
            for (int gx = 0; gx < Grid; gx++)
            {
                var cell = new Rect(gx * size.Width / Grid, gy * size.Height / Grid,
                    (gx + 1) * size.Width / Grid - gx * size.Width / Grid, (gy + 1) * size.Height / Grid - gy * size.Height / Grid);
                if (cell.Width < 3 || cell.Height < 3)
                    continue;
                int visible = shown is null ? cell.Width * cell.Height : 0;
                if (shown is not null)
                    for (int y = cell.Top; y < cell.Bottom; y++)
                        for (int x = cell.Left; x < cell.Right; x++)
                            if (shown[y * w + x] != 0) visible++;
                if (visible < 0.9 * cell.Width * cell.Height)
                    continue; // the query does not show this cell
                var (oStd, qStd, covariance) = Moments(o, q, w, cell, removeRamps);
                if (oStd < minTexture)
                    continue; // flat (or a plane) in the original: no evidence
                double correlation = qStd == 0 ? 0 : covariance / (oStd * qStd);
                verdicts[gy * Grid + gx] = correlation >= MinCorrelation ? CellVerdict.Agrees : CellVerdict.Differs;
            }
        return verdicts;
    }

    /// <summary>The query thumbnail warped (bilinear, black outside) onto the original thumbnail's frame, as OpenCV's warpPerspective does it.</summary>
    private static unsafe byte[] Warp(Mat queryThumb, double[] queryToOriginal, Size size)
    {
        var warped = new byte[size.Width * size.Height];
        if (queryThumb.Type() == MatType.CV_8UC1 && queryThumb.IsContinuous())
        {
            var source = new ReadOnlySpan<byte>((void*)queryThumb.Data, (int)queryThumb.Total());
            if (BilinearWarp.TryWarp(source, queryThumb.Width, queryThumb.Height, queryThumb.Width, queryToOriginal, warped, size.Width, size.Height))
                return warped;
        }
        using var h = Mat.FromPixelData(3, 3, MatType.CV_64FC1, queryToOriginal);
        using var result = new Mat();
        Cv2.WarpPerspective(queryThumb, result, h, size, InterpolationFlags.Linear, BorderTypes.Constant, Scalar.All(0));
        return MatBytes.Of(result);
    }

    /// <summary>Where the query lands on the original: the warp, nearest-neighbour, of a query thumbnail that is all 255.</summary>
    internal static byte[] ShownMask(double[] queryToOriginal, Size querySize, Size originalSize)
    {
        using var h = Mat.FromPixelData(3, 3, MatType.CV_64FC1, queryToOriginal);
        using var ones = new Mat(querySize, MatType.CV_8UC1, Scalar.All(255));
        using var mask = new Mat();
        Cv2.WarpPerspective(ones, mask, h, originalSize, InterpolationFlags.Nearest, BorderTypes.Constant, Scalar.All(0));
        return MatBytes.Of(mask);
    }

    /// <summary>
    /// Whether an affine query-to-original map (the whole-frame comparison's scaling is one) takes every original
    /// pixel back inside the query, with a hundredth of a pixel to spare against rounding: then the mask
    /// <see cref="ShownMask"/> would warp is all 255, and that warp (a quarter of a whole-frame comparison's time) is
    /// skipped. The corners suffice: an affine map takes the original's rectangle to a parallelogram.
    /// </summary>
    internal static bool ShowsAll(double[] queryToOriginal, Size querySize, Size originalSize)
    {
        var m = queryToOriginal;
        if (m[6] != 0 || m[7] != 0 || m[8] != 1)
            return false;
        double determinant = m[0] * m[4] - m[1] * m[3];
        if (Math.Abs(determinant) < 1e-12)
            return false;
        foreach (var (x, y) in new[] { (0, 0), (originalSize.Width - 1, 0), (0, originalSize.Height - 1), (originalSize.Width - 1, originalSize.Height - 1) })
        {
            // The query pixel whose nearest neighbour the original pixel (x, y) takes.
            double dx = x - m[2], dy = y - m[5];
            double qx = (m[4] * dx - m[1] * dy) / determinant, qy = (m[0] * dy - m[3] * dx) / determinant;
            if (qx < -0.49 || qx > querySize.Width - 0.51 || qy < -0.49 || qy > querySize.Height - 0.51)
                return false;
        }
        return true;
    }

    /// <summary>
    /// Standard deviations of a cell's pixels in the original and the query, and their covariance, after each side's
    /// mean or least-squares plane is removed. One pass of integer sums: over a whole rectangle the constant and the
    /// two centred ramps are orthogonal, so removing the plane subtracts each one's projection from the sums.
    /// </summary>
    internal static (double OriginalStd, double QueryStd, double Covariance) Moments(byte[] o, byte[] q, int stride, Rect cell, bool removeRamp)
    {
        int w = cell.Width, h = cell.Height, n = w * h;
        long sumO = 0, sumQ = 0, squaresO = 0, squaresQ = 0, products = 0, rampXO = 0, rampXQ = 0, rampYO = 0, rampYQ = 0;
        if (Avx2.IsSupported && w >= 8 && n <= MaxVectorCell)
            (sumO, sumQ, squaresO, squaresQ, products, rampXO, rampXQ, rampYO, rampYQ) = Sums(o, q, stride, cell);
        else
            for (int y = 0; y < h; y++)
            {
                int row = (cell.Top + y) * stride + cell.Left, twiceDy = 2 * y - (h - 1);
                long rowO = 0, rowQ = 0;
                for (int x = 0; x < w; x++)
                {
                    int a = o[row + x], b = q[row + x], twiceDx = 2 * x - (w - 1);
                    rowO += a;
                    rowQ += b;
                    squaresO += a * a;
                    squaresQ += b * b;
                    products += a * b;
                    rampXO += a * twiceDx;
                    rampXQ += b * twiceDx;
                }
                sumO += rowO;
                sumQ += rowQ;
                rampYO += rowO * twiceDy;
                rampYQ += rowQ * twiceDy;
            }
        // Sums of the squared (doubled) centred coordinates over the cell.
        double xNorm = (double)h * w * ((double)w * w - 1) / 3, yNorm = (double)w * h * ((double)h * h - 1) / 3;
        double Centred(long sumA, long sumB, long productSum, long xA, long xB, long yA, long yB) =>
            productSum - (double)sumA * sumB / n - (removeRamp ? xA * (double)xB / xNorm + yA * (double)yB / yNorm : 0);
        double varianceO = Math.Max(0, Centred(sumO, sumO, squaresO, rampXO, rampXO, rampYO, rampYO)) / n;
        double varianceQ = Math.Max(0, Centred(sumQ, sumQ, squaresQ, rampXQ, rampXQ, rampYQ, rampYQ)) / n;
        return (Math.Sqrt(varianceO), Math.Sqrt(varianceQ), Centred(sumO, sumQ, products, rampXO, rampXQ, rampYO, rampYQ) / n);
    }

    /// <summary>
    /// Cells of up to this many pixels, at least eight wide, have their sums taken eight pixels at a time in 32-bit lanes: a
    /// lane then sums at most a few hundred pixels' ramp products, far below overflow.
    /// </summary>
    private const int MaxVectorCell = 4096;

    /// <summary>
    /// The integer sums of <see cref="Moments"/>, eight pixels at a time: each lane sums its columns over the cell (the
    /// row ramp is summed per pixel rather than per row), and the lanes are added at the end. A row's last few pixels
    /// are copied beside zeros, which add nothing to any sum. The same integers.
    /// </summary>
    private static unsafe (long SumO, long SumQ, long SquaresO, long SquaresQ, long Products, long RampXO, long RampXQ, long RampYO, long RampYQ)
        Sums(byte[] o, byte[] q, int stride, Rect cell)
    {
        int w = cell.Width, h = cell.Height;
        var sums = new CellSums();
        var firstDx = Vector256.Create(0, 2, 4, 6, 8, 10, 12, 14) - Vector256.Create(w - 1);
        ulong restO, restQ;
        fixed (byte* po = o, pq = q)
        {
            for (int y = 0; y < h; y++)
            {
                int row = (cell.Top + y) * stride + cell.Left;
                var dy = Vector256.Create(2 * y - (h - 1));
                var dx = firstDx;
                int x = 0;
                for (; x + 8 <= w; x += 8, dx += Vector256.Create(16))
                    sums.Add(Avx2.ConvertToVector256Int32(po + row + x), Avx2.ConvertToVector256Int32(pq + row + x), dx, dy);
                if (x == w)
                    continue;
                restO = restQ = 0;
                Buffer.MemoryCopy(po + row + x, &restO, 8, w - x);
                Buffer.MemoryCopy(pq + row + x, &restQ, 8, w - x);
                sums.Add(Avx2.ConvertToVector256Int32((byte*)&restO), Avx2.ConvertToVector256Int32((byte*)&restQ), dx, dy);
            }
        }
        static long Total(Vector256<int> lanes) => Vector256.Sum(Avx2.ConvertToVector256Int64(lanes.GetLower()) + Avx2.ConvertToVector256Int64(lanes.GetUpper()));
        return (Total(sums.O), Total(sums.Q), Total(sums.SquaresO), Total(sums.SquaresQ), Total(sums.Products),
            Total(sums.RampXO), Total(sums.RampXQ), Total(sums.RampYO), Total(sums.RampYQ));
    }

    /// <summary>Per-lane running sums of a cell's pixels (o: original, q: query), their squares and product, and each weighted by its doubled centred column and row.</summary>
    private struct CellSums
    {
        public Vector256<int> O, Q, SquaresO, SquaresQ, Products, RampXO, RampXQ, RampYO, RampYQ;

        public void Add(Vector256<int> o, Vector256<int> q, Vector256<int> twiceDx, Vector256<int> twiceDy)
        {
            O += o;
            Q += q;
            SquaresO += o * o;
            SquaresQ += q * q;
            Products += o * q;
            RampXO += o * twiceDx;
            RampXQ += q * twiceDx;
            RampYO += o * twiceDy;
            RampYQ += q * twiceDy;
        }
    }
}

/// <summary>A gray picture's pixels, row after row without gaps (an original's stored thumbnail), read without a round trip through OpenCV.</summary>
internal sealed record GrayPixels(byte[] Pixels, int Width, int Height);
