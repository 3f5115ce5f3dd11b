using LeakHunter.Index.Imaging;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using OpenCvSharp;

namespace LeakHunter.Index.Matching;

/// <summary>
/// OpenCV's FAST-9 corner detector (16-pixel circle, non-maximum suppression), with the same corners, scores and
/// order: a pixel is a corner when nine consecutive pixels of the circle of radius 3 around it are all brighter
/// than it by more than the threshold, or all darker; its score is the largest threshold at which it still would
/// be, less one; a corner is kept when its score beats all eight neighbours'. Row by row, left to right, as OpenCV
/// lists them. 64 centres at a time with AVX-512: the circle's 16 comparisons become 16
/// lane masks per side, whose runs of nine are found by ANDing neighbouring masks; the scores come from the ring's
/// differences clamped at zero on each side (see <see cref="BestArc"/>) and non-maximum suppression compares whole
/// blocks of scores. On the levels of ORB's pyramids of 400 dev and train pictures it took 0.57 to 0.64 of OpenCV's time;
/// ORB's detection spent half its time in FAST.
/// <para>Used only where <see cref="Available"/>: AVX-512 and a match with OpenCV's FAST on a test picture at first use.</para>
/// </summary>
[SkipLocalsInit]
internal static class FastCorners
{
    /// <summary>The circle, as (dx, dy), in OpenCV's order.</summary>
    private static readonly (int X, int Y)[] Circle =
    [
        (0, 3), (1, 3), (2, 2), (3, 1), (3, 0), (3, -1), (2, -2), (1, -3),
        (0, -3), (-1, -3), (-2, -2), (-3, -1), (-3, 0), (-3, 1), (-2, 2), (-1, 3),
    ];

    private static readonly Lazy<bool> Verified = new(() => Avx512BW.IsSupported && AgreesWithOpenCv());

    public static bool Available => Verified.Value;

    /// <summary>
    /// Corners of an 8-bit picture as OpenCV's <c>FAST(image, threshold, true)</c> finds them (size 7, angle -1,
    /// response the score), for thresholds from 1 up (a corner's score is then at least 1, so a row of scores
    /// with 0 where there is no corner says all that OpenCV's lists of corner positions do).
    /// </summary>
    public static unsafe List<KeyPoint> Detect(Mat image, int threshold)
    {
        if (image.Type() != MatType.CV_8UC1)
            throw new ArgumentException("FAST needs an 8-bit gray picture", nameof(image));
        if (threshold is < 1 or > 255)
            throw new ArgumentOutOfRangeException(nameof(threshold), threshold, "FAST's threshold must be 1 to 255 here");
        int rows = image.Rows, cols = image.Cols;
        if (rows < 7 || cols < 7)
            return [];
        // Room for a corner in every 16th pixel (more than pictures give at ORB's thresholds; growing the list from
        // empty copied it over and over), but never a large-object-heap array.
        var keypoints = new List<KeyPoint>(Math.Min(rows * cols / 16, 2048));
        // A picture narrower than a block of centres and its circles is copied into a wider one (zeros on the
        // right): only centres whose circles lie inside the picture are kept, so the padding is never judged.
        int width = Math.Max(cols, MinWidth);
        byte[]? padded = null;
        if (cols < MinWidth)
        {
            padded = new byte[rows * width];
            for (int y = 0; y < rows; y++)
                new ReadOnlySpan<byte>((void*)image.Ptr(y), cols).CopyTo(padded.AsSpan(y * width, cols));
        }
        int step = padded is null ? (int)image.Step() : width;
        var offsets = new int[16];
        for (int k = 0; k < 16; k++)
            offsets[k] = Circle[k].X + Circle[k].Y * step;
        // Three rows of scores (0 where no corner), reused in turn, as OpenCV keeps them.
        var scores = new byte[3][];
        for (int b = 0; b < 3; b++)
            scores[b] = new byte[width];
        var work = stackalloc Vector512<byte>[5 * 16];
        fixed (byte* copy = padded)
        fixed (int* circle = offsets)
        {
            byte* data = copy != null ? copy : (byte*)image.Data;
            for (int i = 3; i < rows - 2; i++)
            {
                var current = scores[(i - 3) % 3];
                Array.Clear(current);
                if (i < rows - 3)
                    ScoreRow(data + (long)i * step, cols, threshold, circle, current, work);
                if (i > 3) // the previous row's corners, now that the rows on both sides of it are known
                    KeepLocalMaxima(scores[(i - 5 + 3) % 3], scores[(i - 4 + 3) % 3], current, cols, i - 1, keypoints);
            }
        }
        return keypoints;
    }

    /// <summary>Row length that holds one block of 64 centres and the 3 columns either side of it.</summary>
    private const int MinWidth = 64 + 6;

    /// <summary>
    /// The blocks of 64 centres that cover a row's centres (columns 3 .. cols-4): each starts where the last ended,
    /// except the last, moved left to stay inside the row (at least <see cref="MinWidth"/> long); with each block, its
    /// lanes [From, To) that are new centres of the row (neither done already nor past its last centre).
    /// </summary>
    private static BlockCursor Blocks(int cols, int width) => new(cols, width);

    /// <summary>The walk of <see cref="Blocks"/>, as a struct: an iterator object per row and call was garbage by the thousand per query.</summary>
    private struct BlockCursor(int cols, int width)
    {
        private int _next = 3;

        public readonly BlockCursor GetEnumerator() => this;

        public (int Start, int From, int To) Current { get; private set; }

        public bool MoveNext()
        {
            if (_next >= cols - 3)
                return false;
            int start = Math.Min(_next, width - 3 - 64);
            int end = Math.Min(start + 64, cols - 3); // one past the last centre in this block
            Current = (start, _next - start, end - start);
            _next = end;
            return true;
        }
    }

    /// <summary>The scores of one row's corners (columns 3 .. cols-4) into <paramref name="score"/>.</summary>
    private static unsafe void ScoreRow(byte* row, int cols, int threshold, int* circle, byte[] score, Vector512<byte>* work)
    {
        var t = Vector512.Create((byte)threshold);
        Vector512<byte>* ring = work, brighter = work + 16, darker = work + 32, two = work + 48, four = work + 64;
        fixed (byte* output = score)
            foreach (var (start, from, to) in Blocks(cols, score.Length))
            {
                byte* centre = row + start;
                var v = Vector512.Load(centre);
                var high = Avx512BW.AddSaturate(v, t);
                var low = Avx512BW.SubtractSaturate(v, t);
                for (int k = 0; k < 16; k++)
                {
                    var p = Vector512.Load(centre + circle[k]);
                    ring[k] = p;
                    brighter[k] = Vector512.GreaterThan(p, high);
                    darker[k] = Vector512.LessThan(p, low);
                }
                var corner = RunsOfNine(brighter) | RunsOfNine(darker);
                if (from > 0 || to < 64)
                    corner &= Vector512.GreaterThanOrEqual(LaneIndex, Vector512.Create((byte)from)) & Vector512.LessThan(LaneIndex, Vector512.Create((byte)to));
                if (corner == Vector512<byte>.Zero)
                    continue;
                for (int k = 0; k < 16; k++)
                {
                    darker[k] = Avx512BW.SubtractSaturate(v, ring[k]);
                    brighter[k] = Avx512BW.SubtractSaturate(ring[k], v);
                }
                var cornerScore = Avx512BW.SubtractSaturate(Avx512BW.Max(BestArc(darker, two, four), BestArc(brighter, two, four)), Vector512<byte>.One);
                Vector512.ConditionalSelect(corner, cornerScore, Vector512.Load(output + start)).Store(output + start);
            }
    }

    private static readonly Vector512<byte> LaneIndex = Vector512.Create(
        (byte)0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31,
        32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63);

    /// <summary>
    /// The corners of row <paramref name="y"/> (scores <paramref name="middle"/>, between <paramref name="above"/> and
    /// <paramref name="below"/>) whose score beats all eight neighbours', left to right: 64 columns at a time.
    /// </summary>
    private static unsafe void KeepLocalMaxima(byte[] above, byte[] middle, byte[] below, int cols, int y, List<KeyPoint> keypoints)
    {
        fixed (byte* a = above, m = middle, b = below)
            foreach (var (start, from, to) in Blocks(cols, middle.Length))
            {
                var s = Vector512.Load(m + start);
                var neighbours = Avx512BW.Max(Avx512BW.Max(Avx512BW.Max(Vector512.Load(m + start - 1), Vector512.Load(m + start + 1)),
                        Avx512BW.Max(Vector512.Load(a + start - 1), Vector512.Load(a + start))),
                    Avx512BW.Max(Avx512BW.Max(Vector512.Load(a + start + 1), Vector512.Load(b + start - 1)),
                        Avx512BW.Max(Vector512.Load(b + start), Vector512.Load(b + start + 1))));
                ulong kept = Vector512.GreaterThan(s, neighbours).ExtractMostSignificantBits() & ulong.MaxValue << from;
                if (to < 64)
                    kept &= (1UL << to) - 1;
                for (; kept != 0; kept &= kept - 1)
                {
                    int column = start + BitOperations.TrailingZeroCount(kept);
                    keypoints.Add(new KeyPoint(column, y, 7f, -1f, m[column]));
                }
            }
    }

    /// <summary>The lanes where some nine consecutive of the sixteen circle masks are all set, wrapping around (ANDs of shifted runs).</summary>
    private static unsafe Vector512<byte> RunsOfNine(Vector512<byte>* m)
    {
        var t0 = m[0] & m[1]; var t1 = m[1] & m[2]; var t2 = m[2] & m[3]; var t3 = m[3] & m[4];
        var t4 = m[4] & m[5]; var t5 = m[5] & m[6]; var t6 = m[6] & m[7]; var t7 = m[7] & m[8];
        var t8 = m[8] & m[9]; var t9 = m[9] & m[10]; var t10 = m[10] & m[11]; var t11 = m[11] & m[12];
        var t12 = m[12] & m[13]; var t13 = m[13] & m[14]; var t14 = m[14] & m[15]; var t15 = m[15] & m[0];
        var f0 = t0 & t2; var f1 = t1 & t3; var f2 = t2 & t4; var f3 = t3 & t5; var f4 = t4 & t6; var f5 = t5 & t7; var f6 = t6 & t8; var f7 = t7 & t9;
        var f8 = t8 & t10; var f9 = t9 & t11; var f10 = t10 & t12; var f11 = t11 & t13; var f12 = t12 & t14; var f13 = t13 & t15; var f14 = t14 & t0; var f15 = t15 & t1;
        return (f0 & f4 & m[8]) | (f1 & f5 & m[9]) | (f2 & f6 & m[10]) | (f3 & f7 & m[11]) | (f4 & f8 & m[12]) | (f5 & f9 & m[13]) | (f6 & f10 & m[14]) | (f7 & f11 & m[15])
             | (f8 & f12 & m[0]) | (f9 & f13 & m[1]) | (f10 & f14 & m[2]) | (f11 & f15 & m[3]) | (f12 & f0 & m[4]) | (f13 & f1 & m[5]) | (f14 & f2 & m[6]) | (f15 & f3 & m[7]);
    }

    /// <summary>
    /// Per lane, the largest over the sixteen arcs of nine of the arc's smallest value. With the ring's differences
    /// from the centre clamped at zero on each side, the larger of the two sides' results is OpenCV's corner score plus
    /// one: a corner's best arc differs from the centre by more than the threshold throughout, all on one side, so the
    /// clamping changes only arcs that cannot win.
    /// </summary>
    private static unsafe Vector512<byte> BestArc(Vector512<byte>* m, Vector512<byte>* two, Vector512<byte>* four)
    {
        for (int k = 0; k < 16; k++) two[k] = Avx512BW.Min(m[k], m[(k + 1) & 15]);
        for (int k = 0; k < 16; k++) four[k] = Avx512BW.Min(two[k], two[(k + 2) & 15]);
        var best = Vector512<byte>.Zero;
        for (int k = 0; k < 16; k++) best = Avx512BW.Max(best, Avx512BW.Min(Avx512BW.Min(four[k], four[(k + 4) & 15]), m[(k + 8) & 15]));
        return best;
    }

    /// <summary>Whether <see cref="Detect"/> gives OpenCV's FAST corners exactly on a test picture, at thresholds low and high.</summary>
    private static bool AgreesWithOpenCv()
    {
        try
        {
            using var picture = CheckPictures.Textured(new Random(20261204), 317, 203, 1.2, 0.3);
            foreach (int threshold in new[] { 7, 20 })
            {
                var theirs = Cv2.FAST(picture, threshold, true);
                var ours = Detect(picture, threshold);
                if (theirs.Length < 100 || theirs.Length != ours.Count)
                    return false;
                for (int i = 0; i < theirs.Length; i++)
                    if (theirs[i].Pt != ours[i].Pt || theirs[i].Response != ours[i].Response)
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
