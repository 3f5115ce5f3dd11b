using System.Buffers.Binary;
using LeakHunter.Index.Imaging;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using OpenCvSharp;

namespace LeakHunter.Index.Matching;

/// <summary>
/// Finds pictures shown inside a larger one: a photo in a screenshot of a forum page or a web page, or
/// pasted on a plain canvas. The page's background is its commonest colour; text is thin strokes on it.
/// What differs from the background (with what it encloses) and survives an opening wider than text strokes
/// are solid blocks; joined across narrow gaps, the bounding rectangles of the compact, textured ones are the
/// pictures. Each is matched on its own, at its own resolution, because in the whole screenshot the text's
/// corners outnumber the picture's. A picture alone on a plain background (clip art, a product shot) is no page: its
/// subject is not tried again unless it is small in it (see <see cref="MinShareBesidePictures"/>).
/// </summary>
internal static class PictureRegions
{
    /// <summary>Regions tried per query, largest first.</summary>
    public const int MaxRegions = 3;
    /// <summary>Work side: regions are found on a copy with this long side.</summary>
    private const int WorkLongSide = 480;
    /// <summary>Colour distance (sum over channels) within which a pixel is background.</summary>
    private const int BackgroundTolerance = 24;
    /// <summary>Share of the page that must be background for a page to be recognised at all.</summary>
    private const double MinBackgroundShare = 0.2;
    /// <summary>Opening kernel side in work pixels: wider than text strokes.</summary>
    private const int OpeningSide = 9;
    /// <summary>
    /// Closing kernel side in work pixels: joins the solid parts of one picture across narrower gaps of page
    /// colour. A screenshot of an application window whose background is the page's own colour stands out
    /// only as its panels, plots and buttons; joined, they are the window.
    /// </summary>
    private const int ClosingSide = 15;
    /// <summary>Smallest region side in work pixels (about 64 px of a 640-px screenshot).</summary>
    private const int MinSide = 48;
    /// <summary>
    /// Share of its bounding rectangle a region must fill. A picture is a rectangle, but one with a plain light
    /// background of its own (clip art, a product shot) merges with a light page, and what stands out is its
    /// subject: its bounding rectangle, filled by a third or more, is the part to match.
    /// </summary>
    private const double MinFill = 0.3;
    /// <summary>Largest share of the query a region may cover: a larger one is (nearly) the whole query, matched already.</summary>
    private const double MaxShare = 0.5;
    /// <summary>Gray-level standard deviation of a picture; below it a block is a plain bar or button.</summary>
    private const double MinTexture = 12;
    /// <summary>
    /// Share of the query that must differ from the background outside its pictures for it to be a page. A page shows
    /// more than its pictures (text, controls, other blocks); a subject alone on a plain background (clip art, a product
    /// shot) is a picture, not a page, and the whole-query attempt has already seen all there is. On the dev set's
    /// unrelated queries such subjects were 4 of the 5 that had regions, and each region cost twice a whole query;
    /// text, a caption or a toolbar is well over this share, an antenna or a drop shadow under it.
    /// </summary>
    private const double MinShareBesidePictures = 0.005;
    /// <summary>
    /// A region smaller than this share of the query is tried even on a plain background: the whole query described
    /// it too coarsely (its features are detected on the region enlarged to <see cref="CopyMatcher.RegionMinLongSide"/>).
    /// </summary>
    private const double SmallShare = 0.25;

    /// <summary>Rectangles (in the picture's pixels) of pictures inside it, largest first; empty when it is not a page.</summary>
    public static IReadOnlyList<Rect> Find(Mat bgr)
    {
        if (bgr.Type() != MatType.CV_8UC3)
            throw new ArgumentException($"PictureRegions needs an 8-bit BGR picture, not {bgr.Type()}", nameof(bgr));
        double scale = Math.Min(1.0, (double)WorkLongSide / Math.Max(bgr.Width, bgr.Height));
        int workWidth = Math.Max(1, (int)(bgr.Width * scale)), workHeight = Math.Max(1, (int)(bgr.Height * scale));
        if (MaxShare * workWidth * workHeight < MinSide * MinSide)
            return []; // too small to hold a region no larger than MaxShare of it
        // Bilinear, not area averaging: regions are found coarsely anyway (the morphology works in 9- and 15-pixel
        // blocks), and area averaging at the uneven ratios a 500-640-px query has took half of the search. The
        // family sets matched as before (famdev 146 of 150 against 145, famtr 302 of 306, dev unchanged).
        using var small = new Mat();
        Cv2.Resize(bgr, small, new Size(workWidth, workHeight), 0, 0, InterpolationFlags.Linear);
        if (PageBackground(small) is not { } background)
            return [];
        using var foreground = Foreground(small, background);
        using var kernel = Cv2.GetStructuringElement(MorphShapes.Rect, new Size(OpeningSide, OpeningSide));
        using var solid = new Mat();
        FillHoles(foreground);
        Cv2.MorphologyEx(foreground, solid, MorphTypes.Open, kernel);
        using (var bridge = Cv2.GetStructuringElement(MorphShapes.Rect, new Size(ClosingSide, ClosingSide)))
            Cv2.MorphologyEx(solid, solid, MorphTypes.Close, bridge);
        using var gray = new Mat();
        Cv2.CvtColor(small, gray, ColorConversionCodes.BGR2GRAY);
        var found = new List<Rect>();
        foreach (var (r, area) in MaskComponents.Find(solid))
        {
            if (r.Width < MinSide || r.Height < MinSide || area < MinFill * r.Width * r.Height)
                continue;
            if (r.Width * r.Height > MaxShare * small.Width * small.Height)
                continue; // most of the query: the whole-query attempt covered it
            using var inside = new Mat(gray, r);
            Cv2.MeanStdDev(inside, out _, out var std);
            if (std.Val0 < MinTexture)
                continue;
            found.Add(r);
        }
        if (found.Count > 0 && !ShowsMoreThan(foreground, found))
            found.RemoveAll(r => r.Width * r.Height >= SmallShare * small.Width * small.Height);
        return found.OrderByDescending(r => r.Width * r.Height).Take(MaxRegions)
            .Select(r => new Rect((int)(r.X / scale), (int)(r.Y / scale),
                Math.Min(bgr.Width - (int)(r.X / scale), (int)Math.Ceiling(r.Width / scale)),
                Math.Min(bgr.Height - (int)(r.Y / scale), (int)Math.Ceiling(r.Height / scale))))
            .ToList();
    }

    /// <summary>Whether at least <see cref="MinShareBesidePictures"/> of the query's pixels are foreground outside the pictures (clears the pictures from the mask).</summary>
    private static bool ShowsMoreThan(Mat foreground, IEnumerable<Rect> pictures)
    {
        foreach (var r in pictures)
        {
            using var inside = new Mat(foreground, r);
            inside.SetTo(Scalar.All(0));
        }
        return Cv2.CountNonZero(foreground) >= MinShareBesidePictures * foreground.Width * foreground.Height;
    }

    /// <summary>
    /// Marks as foreground what the foreground encloses: a picture whose own colours are close to the page's
    /// (a light dialog on a light page) may stand out only as its thin outline or shadow, which the opening
    /// would remove; filled first, it is a solid block. Background is what a flood from the border reaches;
    /// an enclosed part larger than a picture may be (the whole page inside a window frame) stays background.
    /// </summary>
    private static void FillHoles(Mat mask)
    {
        using var padded = new Mat();
        Cv2.CopyMakeBorder(mask, padded, 1, 1, 1, 1, BorderTypes.Constant, Scalar.All(0));
        Cv2.FloodFill(padded, new Point(0, 0), Scalar.All(128));
        using var unreached = new Mat();
        Cv2.Compare(padded, Scalar.All(0), unreached, CmpTypes.EQ);
        using var holes = new Mat(unreached, new Rect(1, 1, mask.Width, mask.Height));
        mask.SetTo(Scalar.All(255), holes);
        double largest = MaxShare * mask.Width * mask.Height;
        if (Cv2.CountNonZero(holes) <= largest)
            return; // no hole can be too large: nearly every page
        using var labels = new Mat();
        using var stats = new Mat();
        using var centroids = new Mat();
        int count = Cv2.ConnectedComponentsWithStats(holes, labels, stats, centroids, PixelConnectivity.Connectivity4);
        for (int i = 1; i < count; i++)
            if (stats.At<int>(i, 4) > largest) // rare: at most one or two per page
            {
                using var tooLarge = new Mat();
                Cv2.Compare(labels, Scalar.All(i), tooLarge, CmpTypes.EQ);
                mask.SetTo(Scalar.All(0), tooLarge);
            }
    }

    /// <summary>
    /// 255 where a pixel's colour differs from the background by more than <see cref="BackgroundTolerance"/> (the sum over
    /// channels of the absolute differences, each rounded to a whole level), else 0. One pass over the pixels with a
    /// table per channel, where OpenCV's difference, channel sum and threshold took three passes and a sixth of the search.
    /// </summary>
    internal static unsafe Mat Foreground(Mat small, Scalar background)
    {
        var levels = new int[3 * 256];
        for (int c = 0; c < 3; c++)
        {
            double b = c == 0 ? background.Val0 : c == 1 ? background.Val1 : background.Val2;
            for (int v = 0; v < 256; v++)
                levels[c * 256 + v] = (int)Math.Round(Math.Abs(v - b), MidpointRounding.ToEven);
        }
        var mask = new Mat(small.Rows, small.Cols, MatType.CV_8UC1);
        int width = small.Width, height = small.Height;
        fixed (int* table = levels)
            for (int y = 0; y < height; y++)
            {
                byte* row = (byte*)small.Ptr(y);
                byte* output = (byte*)mask.Ptr(y);
                int x = 0;
                // Eight pixels at a time, each read as four bytes (its own three and the next pixel's first): a row's
                // last pixel is left to the scalar loop, as its fourth byte lies past the row.
                if (Avx2.IsSupported)
                    for (; x + 8 <= width - 1; x += 8)
                        *(ulong*)(output + x) = ForegroundBytes[ForegroundBits(row + 3 * x, table)];
                for (; x < width; x++)
                    output[x] = table[row[3 * x]] + table[256 + row[3 * x + 1]] + table[512 + row[3 * x + 2]] > BackgroundTolerance ? (byte)255 : (byte)0;
            }
        return mask;
    }

    /// <summary>
    /// Which of eight pixels (BGR, from <paramref name="pixels"/>) differ from the background, one bit each: the same
    /// table lookups and sum as the scalar loop, eight lanes at a time by gathers.
    /// </summary>
    private static unsafe int ForegroundBits(byte* pixels, int* levels)
    {
        var bgr = Avx2.GatherVector256((int*)pixels, Vector256.Create(0, 3, 6, 9, 12, 15, 18, 21), 1);
        var lowByte = Vector256.Create(0xFF);
        var blue = Avx2.GatherVector256(levels, Avx2.And(bgr, lowByte), 4);
        var green = Avx2.GatherVector256(levels + 256, Avx2.And(Avx2.ShiftRightLogical(bgr, 8), lowByte), 4);
        var red = Avx2.GatherVector256(levels + 512, Avx2.And(Avx2.ShiftRightLogical(bgr, 16), lowByte), 4);
        var differs = Avx2.CompareGreaterThan(blue + green + red, Vector256.Create(BackgroundTolerance));
        return Avx.MoveMask(differs.AsSingle());
    }

    /// <summary>The eight mask bytes (0 or 255) for each set of eight foreground bits.</summary>
    private static readonly ulong[] ForegroundBytes = Enumerable.Range(0, 256)
        .Select(bits => Enumerable.Range(0, 8).Aggregate(0UL, (bytes, i) => (bits >> i & 1) != 0 ? bytes | 0xFFUL << (8 * i) : bytes)).ToArray();

    /// <summary>
    /// The page's background: its commonest colour (quantised to 16 levels per channel, then averaged), or null when
    /// that colour covers less than <see cref="MinBackgroundShare"/> of the picture (no page).
    /// </summary>
    private static unsafe Scalar? PageBackground(Mat small)
    {
        // Two passes over the pixels where they are: one counting each quantised colour (every query that is no page
        // stops after it), one summing the commonest one's pixels. Summing every colour's in the first pass cost more.
        // (Sums fit in ints: the work copy has at most 480 x 480 pixels.)
        // Neighbouring pixels of a page share their colour, and one counter incremented pixel after pixel waits on
        // its own previous store each time: four sets of counters, taken in turn, do not.
        const int colours = 16 * 16 * 16;
        var partial = new int[4 * colours];
        int width = small.Width, height = small.Height;
        for (int y = 0; y < height; y++)
        {
            byte* row = (byte*)small.Ptr(y);
            int x = 0;
            if (Bmi2.IsSupported)
                for (; x + 4 <= width - 1; x += 4) // a row's last pixel is left to the loop below (see QuantisedOfFour)
                {
                    partial[QuantisedOfFour(row + 3 * x)]++;
                    partial[colours + QuantisedOfFour(row + 3 * x + 3)]++;
                    partial[2 * colours + QuantisedOfFour(row + 3 * x + 6)]++;
                    partial[3 * colours + QuantisedOfFour(row + 3 * x + 9)]++;
                }
            for (; x < width; x++)
                partial[Quantised(row + 3 * x)]++;
        }
        var counts = new int[colours];
        for (int c = 0; c < colours; c++)
            counts[c] = partial[c] + partial[colours + c] + partial[2 * colours + c] + partial[3 * colours + c];
        int commonest = Array.IndexOf(counts, counts.Max());
        int n = counts[commonest];
        if (n < MinBackgroundShare * Math.Max(1, width * height))
            return null;
        int sumB = 0, sumG = 0, sumR = 0;
        for (int y = 0; y < height; y++)
        {
            byte* row = (byte*)small.Ptr(y);
            int x = 0;
            // Without a branch: the commonest colour's pixels lie scattered over a photo, where a branch on each
            // pixel is often mispredicted.
            if (Bmi2.IsSupported)
                for (; x < width - 1; x++)
                {
                    byte* pixel = row + 3 * x;
                    int mask = -(QuantisedOfFour(pixel) == commonest ? 1 : 0);
                    sumB += pixel[0] & mask;
                    sumG += pixel[1] & mask;
                    sumR += pixel[2] & mask;
                }
            for (; x < width; x++)
            {
                byte* pixel = row + 3 * x;
                int mask = -(Quantised(pixel) == commonest ? 1 : 0);
                sumB += pixel[0] & mask;
                sumG += pixel[1] & mask;
                sumR += pixel[2] & mask;
            }
        }
        return new Scalar((double)sumB / n, (double)sumG / n, (double)sumR / n);
    }

    internal static unsafe int Quantised(byte* bgr) => (bgr[0] >> 4) << 8 | (bgr[1] >> 4) << 4 | bgr[2] >> 4;

    /// <summary>
    /// <see cref="Quantised"/> from one four-byte read (the pixel and the next one's first byte, so never a row's last
    /// pixel): byte-reversed, the three high nibbles wanted lie at bits 28, 20 and 12 in the order B, G, R, and one
    /// bit extraction packs them.
    /// </summary>
    internal static unsafe int QuantisedOfFour(byte* bgr) =>
        (int)Bmi2.ParallelBitExtract(BinaryPrimitives.ReverseEndianness(*(uint*)bgr), 0xF0F0F000);
}
