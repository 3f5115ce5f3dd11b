using LeakHunter.Index.Watermark;
using OpenCvSharp;

namespace LeakHunter.SiloHost.Commands;

/// <summary>
/// <c>leakhunter bench queries --originals DIR --out DIR [--seed N]</c>: writes query families that LeakBench's
/// dev set lacks, one query per original per family, with a truth.csv in LeakBench's format, for
/// <c>bench match --queries DIR/queries --truth DIR/truth.csv</c>:
/// <c>screenshot</c> (the picture at 70 % inside a page of text under a title bar),
/// <c>forum</c> (the picture at 420 px in a 1280 x 1000 forum page of posts, JPEG 80),
/// <c>perspective</c> (a mild perspective warp: corners moved by 4-10 % inwards, JPEG 85).
/// </summary>
public static class BenchQueriesCommand
{
    public static Task<int> RunAsync(string[] args)
    {
        var opts = CliOptions.Parse("bench queries", args, ["--originals", "--out", "--seed"], []);
        var files = CliOptions.Files(opts.Required("--originals"), "--originals");
        string outDir = opts.Required("--out");
        int seed = opts.Int("--seed", 1);
        Directory.CreateDirectory(Path.Combine(outDir, "queries"));
        var truth = new List<string> { "query,original,family" };
        var random = new Random(seed);
        foreach (var path in files)
        {
            string id = Path.GetFileNameWithoutExtension(path);
            using var original = Cv2.ImRead(path, ImreadModes.Color);
            if (original.Empty())
            {
                Console.Error.WriteLine($"skipped {path}: not a picture OpenCV can read");
                continue;
            }
            foreach (var (family, quality, make) in Families)
            {
                using var query = make(original, random);
                string name = $"g{truth.Count:0000}.jpg";
                Cv2.ImWrite(Path.Combine(outDir, "queries", name), query, new ImageEncodingParam(ImwriteFlags.JpegQuality, quality));
                truth.Add($"{name},{id},{family}");
            }
        }
        File.WriteAllLines(Path.Combine(outDir, "truth.csv"), truth);
        Console.WriteLine($"wrote {truth.Count - 1} queries of {Families.Length} families to {outDir}");
        return Task.FromResult(0);
    }

    private static readonly (string Family, int Quality, Func<Mat, Random, Mat> Make)[] Families =
    [
        ("screenshot", 85, WatermarkAttacks.Screenshot),
        ("forum", 80, ForumPost),
        ("perspective", 85, Perspective),
    ];

    private static Mat ForumPost(Mat picture, Random random)
    {
        var page = new Mat(1000, 1280, MatType.CV_8UC3, new Scalar(240, 238, 235));
        Cv2.Rectangle(page, new Rect(0, 0, 1280, 70), new Scalar(90, 60, 30), -1);
        for (int line = 0; line < 20; line++)
            Cv2.PutText(page, $"Re: look what I found on this board, posted by user{random.Next(1000)}", new Point(40, 110 + line * 42),
                HersheyFonts.HersheySimplex, 0.7, Scalar.All(40), 1, LineTypes.AntiAlias);
        double s = 420.0 / Math.Max(picture.Width, picture.Height);
        using var shown = new Mat();
        Cv2.Resize(picture, shown, new Size((int)(picture.Width * s), (int)(picture.Height * s)), 0, 0, InterpolationFlags.Area);
        int x = 300 + random.Next(400), y = 200 + random.Next(300);
        using (var at = new Mat(page, new Rect(x, y, shown.Width, shown.Height)))
            shown.CopyTo(at);
        return page;
    }

    private static Mat Perspective(Mat picture, Random random)
    {
        float w = picture.Width, h = picture.Height;
        float Inset(float side) => (float)(side * (0.04 + 0.06 * random.NextDouble()));
        var corners = new[] { new Point2f(0, 0), new Point2f(w, 0), new Point2f(w, h), new Point2f(0, h) };
        var moved = new[]
        {
            new Point2f(Inset(w), Inset(h)), new Point2f(w - Inset(w), Inset(h) * 0.3f),
            new Point2f(w - Inset(w) * 0.3f, h - Inset(h)), new Point2f(Inset(w) * 0.5f, h - Inset(h) * 0.5f),
        };
        using var warp = Cv2.GetPerspectiveTransform(corners, moved);
        var warped = new Mat();
        Cv2.WarpPerspective(picture, warped, warp, picture.Size(), InterpolationFlags.Linear, BorderTypes.Constant, Scalar.All(255));
        return warped;
    }
}
