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
    private const int Grid = 8;
    /// <summary>Gray-level standard deviation below which a cell is flat (no evidence either way).</summary>
    private const double MinTexture = 6;
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

    /// <summary>A gray thumbnail of a BGR picture, area-averaged to the given long side.</summary>
    public static Mat Thumbnail(Mat bgr, int longSide = ThumbnailLongSide)
    {
        double s = (double)longSide / Math.Max(bgr.Width, bgr.Height);
        using var gray = new Mat();
        Cv2.CvtColor(bgr, gray, ColorConversionCodes.BGR2GRAY);
        var thumb = new Mat();
        Cv2.Resize(gray, thumb, new Size(Math.Max(1, (int)Math.Round(bgr.Width * s)), Math.Max(1, (int)Math.Round(bgr.Height * s))), 0, 0, InterpolationFlags.Area);
        return thumb;
    }

    /// <summary>
    /// Cells that agree and cells judged, or null when fewer than <see cref="MinCells"/> visible cells
    /// have texture. <paramref name="queryToOriginal"/> maps query thumbnail pixels to original
    /// thumbnail pixels.
    /// </summary>
    public static (int Agreeing, int Judged)? Measure(Mat queryThumb, Mat originalThumb, double[] queryToOriginal)
    {
        var cells = Cells(queryThumb, originalThumb, queryToOriginal);
        int judged = cells.Count(c => c != CellVerdict.Unjudged), agreeing = cells.Count(c => c == CellVerdict.Agrees);
        return judged < MinCells ? null : (agreeing, judged);
    }

    public enum CellVerdict : byte { Unjudged, Agrees, Differs }

    /// <summary>The verdict on every cell of the grid, row by row.</summary>
    public static CellVerdict[] Cells(Mat queryThumb, Mat originalThumb, double[] queryToOriginal)
    {
        using var h = Mat.FromPixelData(3, 3, MatType.CV_64FC1, queryToOriginal);
        using var warped = new Mat();
        using var mask = new Mat();
        using var ones = new Mat(queryThumb.Size(), MatType.CV_8UC1, Scalar.All(255));
        var size = originalThumb.Size();
        Cv2.WarpPerspective(queryThumb, warped, h, size, InterpolationFlags.Linear, BorderTypes.Constant, Scalar.All(0));
        Cv2.WarpPerspective(ones, mask, h, size, InterpolationFlags.Nearest, BorderTypes.Constant, Scalar.All(0));
        var verdicts = new CellVerdict[Grid * Grid];
        for (int gy = 0; gy < Grid; gy++)
            for (int gx = 0; gx < Grid; gx++)
            {
                var cell = new Rect(gx * size.Width / Grid, gy * size.Height / Grid,
                    (gx + 1) * size.Width / Grid - gx * size.Width / Grid, (gy + 1) * size.Height / Grid - gy * size.Height / Grid);
                if (cell.Width < 3 || cell.Height < 3)
                    continue;
                using var m = new Mat(mask, cell);
                if (Cv2.CountNonZero(m) < 0.9 * cell.Width * cell.Height)
                    continue; // the query does not show this cell
                using var o = new Mat(originalThumb, cell);
                Cv2.MeanStdDev(o, out _, out var oStd);
                if (oStd.Val0 < MinTexture)
                    continue; // flat in the original: no evidence
                using var q = new Mat(warped, cell);
                using var corr = new Mat();
                Cv2.MatchTemplate(q, o, corr, TemplateMatchModes.CCoeffNormed);
                verdicts[gy * Grid + gx] = corr.At<float>(0, 0) >= MinCorrelation ? CellVerdict.Agrees : CellVerdict.Differs;
            }
        return verdicts;
    }
}
