namespace LeakHunter.Index.Matching;

/// <summary>
/// Turns geometric evidence (the number of distinct RANSAC inliers of a plausible homography)
/// into a calibrated false-match probability and a score.
/// <para>
/// Model: among comparisons of a query with an original it is not a copy of, the best plausible
/// homography's distinct-inlier count N has an exponential tail, P(N &gt;= n) = exp(-(n - Offset) / Slope)
/// (fitted on impostor pairs of /work/shared/train against the dev originals: unrelated pictures,
/// their crops, mirrors and recompressions, and the dev distractors: 623 impostor queries of about 12
/// verified comparisons each; the best impostor reached 11 distinct inliers, and the per-query tail
/// falls by about e per inlier above 8). Re-checked after queries got 1500 features spread evenly
/// over a 4x4 grid and verification required spread inliers: the 506 pictures of /work/shared/train
/// as queries against the 50 dev originals (about 6 verified comparisons each) now reach up to 15
/// distinct inliers (10 queries reach 10 or more, 2 reach 13 or more), about 4 more than before, so
/// the offset moved from 2.5 to 5.5. Three train pictures are left out of that tail because they are
/// variants of the same artwork as dev originals (f354 and f420 of o033, f444 of o045: 36 to 138
/// inliers), i.e. true derivatives, not impostors. The decision threshold is the smallest n whose
/// tail probability is at most the target false-match rate: 20 distinct inliers at the default 1e-6.
/// </para>
/// <para>
/// Score: s = log10(1/p) / (2 log10(1/target)), clamped to [0, 1]; so s = 0.5 exactly at the
/// decision threshold and s = 1 at the square of the target rate. Exact byte matches score 1.
/// </para>
/// </summary>
public sealed class MatchCalibration
{
    /// <summary>Fitted on impostor comparisons (see the class remarks).</summary>
    public static MatchCalibration Default { get; } = new(offset: 5.5, slope: 1.0);

    public MatchCalibration(double offset, double slope)
    {
        Offset = offset;
        Slope = slope;
    }

    public double Offset { get; }
    public double Slope { get; }

    /// <summary>Estimated probability that an impostor comparison yields at least this many distinct inliers.</summary>
    public double FalseMatchProbability(int distinctInliers) =>
        Math.Min(1.0, Math.Exp(-(distinctInliers - Offset) / Slope));

    /// <summary>Smallest inlier count accepted at the given false-match rate.</summary>
    public int Threshold(double targetFalseMatchRate)
    {
        double t = Math.Clamp(targetFalseMatchRate, 1e-300, 0.5);
        return (int)Math.Ceiling(Offset + Slope * Math.Log(1.0 / t));
    }

    public double Score(int distinctInliers, double targetFalseMatchRate) =>
        Score(FalseMatchProbability(distinctInliers), targetFalseMatchRate);

    public static double Score(double falseMatchProbability, double targetFalseMatchRate)
    {
        double p = Math.Max(falseMatchProbability, 1e-300);
        double t = Math.Clamp(targetFalseMatchRate, 1e-300, 0.5);
        return Math.Clamp(Math.Log10(1.0 / p) / (2 * Math.Log10(1.0 / t)), 0.0, 1.0);
    }

    /// <summary>
    /// Fewest distinct inliers that pixel agreement may corroborate: below it a homography rests on
    /// too few points to say where the query lies on the original.
    /// </summary>
    public const int MinCorroboratedInliers = 12;

    /// <summary>
    /// Chance that one textured cell of an impostor's warped query correlates with the original
    /// (NCC ≥ 0.5). Measured: the train pictures against the dev originals agree on 0–11 % of cells;
    /// 20 % is taken to stay on the safe side.
    /// </summary>
    public const double ChanceCellAgreement = 0.2;

    /// <summary>
    /// False-match probability of geometric evidence corroborated by pixels: the inlier tail times the
    /// chance that at least <paramref name="agreeingCells"/> of <paramref name="judgedCells"/> cells
    /// agree by accident (binomial, <see cref="ChanceCellAgreement"/>). An impostor's homography is a
    /// chance fit, so its pixels agree no more than chance allows; the two are independent for it.
    /// </summary>
    public double FalseMatchProbability(int distinctInliers, int agreeingCells, int judgedCells)
    {
        double geometric = FalseMatchProbability(distinctInliers);
        if (distinctInliers < MinCorroboratedInliers || judgedCells <= 0)
            return geometric;
        return geometric * BinomialTail(judgedCells, agreeingCells, ChanceCellAgreement);
    }

    /// <summary>
    /// Chance taken per detailed cell that an unrelated picture, scaled onto an original's frame, agrees with
    /// it (cells compared beyond their ramps, see <see cref="PixelAgreement.Cells"/>). Measured on about
    /// 66 000 impostor pairs, each as is and mirrored (the dev distractors, the other dev originals' queries
    /// and the train pictures, against the 50 dev originals, stretched onto their frames up to 2.5:1): 1.1 %
    /// of cells agree on average; cells of one pair are not independent (two wallpapers of one theme share
    /// curves), and the most agreeing pair with at least 24 cells judged agrees on 27 % (12 of 44). The
    /// chance is taken above that pair, at 35 %.
    /// </summary>
    public const double ChanceSameFrameCellAgreement = 0.35;

    /// <summary>Judged cells (of the 8x8 grid) that whole-frame evidence needs: half the picture.</summary>
    public const int MinSameFrameCells = 32;

    /// <summary>Largest sticker (an opaque patch pasted over the copy) allowed for, in grid cells: 36 of 64 (a patch of 30 % of the picture, square, spans up to 6 x 6 cells).</summary>
    public const int MaxOccluderCells = 36;

    /// <summary>Judged cells that must remain outside the sticker.</summary>
    public const int MinCellsBesideOccluder = 24;

    /// <summary>
    /// False-match probability of whole-frame pixel evidence (<see cref="Verifier.SameFrame"/>): the
    /// chance that as many cells agree by accident (binomial, <see cref="ChanceSameFrameCellAgreement"/>),
    /// over all of the frame or, for a copy with a sticker, outside the one rectangle of cells (at most
    /// <see cref="MaxOccluderCells"/>) that explains the disagreement best; the latter multiplied by the
    /// number of rectangles tried (1261), since every one of them was a chance to find agreement. At the
    /// default target the whole frame takes 42 of 64 cells (66 %) or 25 of 32; beside a sticker 23 of 24,
    /// 27 of 30 or 34 of 40. No impostor pair above comes near: the most agreeing has a probability of 0.89.
    /// </summary>
    internal static double SameFrameProbability(IReadOnlyList<PixelAgreement.CellVerdict> cells)
    {
        const int grid = SameFrameGrid;
        if (cells.Count != grid * grid)
            throw new ArgumentException($"Whole-frame evidence has {grid}x{grid} cells.", nameof(cells));
        // Summed-area tables of judged and agreeing cells (row-major, (grid + 1)^2): any rectangle's counts in constant time.
        const int side = grid + 1;
        Span<int> judged = stackalloc int[side * side];
        Span<int> agreeing = stackalloc int[side * side];
        judged.Clear();
        agreeing.Clear();
        for (int y = 0; y < grid; y++)
            for (int x = 0; x < grid; x++)
            {
                var c = cells[y * grid + x];
                int at = (y + 1) * side + x + 1;
                judged[at] = judged[at - side] + judged[at - 1] - judged[at - side - 1] + (c == PixelAgreement.CellVerdict.Unjudged ? 0 : 1);
                agreeing[at] = agreeing[at - side] + agreeing[at - 1] - agreeing[at - side - 1] + (c == PixelAgreement.CellVerdict.Agrees ? 1 : 0);
            }
        static int Count(ReadOnlySpan<int> table, Rect r) =>
            table[r.Y1 * side + r.X1] - table[r.Y0 * side + r.X1] - table[r.Y1 * side + r.X0] + table[r.Y0 * side + r.X0];
        var tails = SameFrameTails.Value;
        int allJudged = judged[side * side - 1], allAgreeing = agreeing[side * side - 1];
        double best = allJudged < MinSameFrameCells ? 1.0 : tails[allJudged * TailColumns + allAgreeing];
        foreach (var occluder in OccluderRectangles)
        {
            int n = allJudged - Count(judged, occluder), k = allAgreeing - Count(agreeing, occluder);
            if (n >= MinCellsBesideOccluder)
                best = Math.Min(best, OccluderRectangles.Length * tails[n * TailColumns + k]);
        }
        return Math.Min(1.0, best);
    }

    /// <summary>Side of the grid whole-frame evidence is judged on.</summary>
    private const int SameFrameGrid = PixelAgreement.Grid;

    /// <summary>A rectangle of grid cells, corners inclusive-exclusive.</summary>
    private readonly record struct Rect(int X0, int Y0, int X1, int Y1);

    /// <summary>Every rectangle of at most <see cref="MaxOccluderCells"/> cells a sticker may cover (1261 on the 8x8 grid).</summary>
    private static readonly Rect[] OccluderRectangles =
        (from x0 in Enumerable.Range(0, SameFrameGrid)
         from x1 in Enumerable.Range(x0 + 1, SameFrameGrid - x0)
         from y0 in Enumerable.Range(0, SameFrameGrid)
         from y1 in Enumerable.Range(y0 + 1, SameFrameGrid - y0)
         where (x1 - x0) * (y1 - y0) <= MaxOccluderCells
         select new Rect(x0, y0, x1, y1)).ToArray();

    /// <summary><see cref="BinomialTail"/> at <see cref="ChanceSameFrameCellAgreement"/> for up to 64 cells, tabulated once: (n, k) at n * <see cref="TailColumns"/> + k.</summary>
    private static readonly Lazy<double[]> SameFrameTails = new(() =>
    {
        var table = new double[65 * TailColumns];
        for (int n = 0; n <= 64; n++)
            for (int k = 0; k <= n + 1; k++)
                table[n * TailColumns + k] = k > n ? 0 : BinomialTail(n, k, ChanceSameFrameCellAgreement);
        return table;
    });

    private const int TailColumns = 66;

    /// <summary>P(X ≥ k) for X ~ Binomial(n, q).</summary>
    internal static double BinomialTail(int n, int k, double q)
    {
        double sum = 0;
        for (int i = Math.Max(0, k); i <= n; i++)
        {
            double logTerm = LogChoose(n, i) + i * Math.Log(q) + (n - i) * Math.Log(1 - q);
            sum += Math.Exp(logTerm);
        }
        return Math.Min(1.0, sum);
    }

    private static double LogChoose(int n, int k)
    {
        double r = 0;
        for (int i = 1; i <= k; i++)
            r += Math.Log(n - k + i) - Math.Log(i);
        return r;
    }
}
