// Builds the default copy-detection encoder, models/leakhunter-copydetect.onnx (see models/README.md):
//   dotnet run -c Release --project scripts/model -- [--out models] [--train DIR] [--originals DIR|none] [--eval DIR] [--views 6] [--dim 256]
// 1. writes the fixed feature graph (Gabor energy pyramid) as ONNX;
// 2. renders windows of every training picture and leak-style augmented views of them;
// 3. fits a linear projection in closed form (LDA: views of one window together, windows apart);
// 4. writes feature graph + projection as one ONNX model with its manifest, and reports leakbench recall.
using System.Diagnostics;
using System.Text.Json;
using LeakHunter.Index.Embedding;
using LeakHunter.ModelBuilder;
using MathNet.Numerics.LinearAlgebra;
using OpenCvSharp;

var opts = new Dictionary<string, string>();
for (var i = 0; i + 1 < args.Length; i += 2) opts[args[i].TrimStart('-')] = args[i + 1];
string Opt(string key, string fallback) => opts.TryGetValue(key, out var v) ? v : fallback;
var outDir = Path.GetFullPath(Opt("out", "models"));
var trainDir = Opt("train", "/work/shared/train/images");
var originalsDir = Opt("originals", "/work/shared/leakbench/dev/originals");
var evalDir = Opt("eval", "/work/shared/leakbench/dev");
var views = int.Parse(Opt("views", "6"));
var outDim = int.Parse(Opt("dim", "256"));
var seed = int.Parse(Opt("seed", "1"));
var threads = int.Parse(Opt("threads", "2"));
var name = Opt("name", OnnxEmbedder.DefaultModelName);
var clock = Stopwatch.StartNew();
void Log(string s) => Console.Error.WriteLine($"[{clock.Elapsed:mm\\:ss}] {s}");

// 1. Fixed feature graph.
var work = Path.Combine(Path.GetTempPath(), "lh-modelbuilder-" + Environment.ProcessId);
Directory.CreateDirectory(work);
var fg = new OnnxGraph();
var features = FeatureGraph.Build(fg, out var featureDim);
fg.Output(features, "N", featureDim);
File.WriteAllBytes(Path.Combine(work, "features.onnx"), fg.ToModel("features"));
var featureManifest = new EmbeddingManifest
{
    Name = "features", Model = "features.onnx", Input = FeatureGraph.Input, Output = features,
    Size = FeatureGraph.Size, Layout = "NCHW", Channels = "RGB", Resize = "stretch", PixelScale = 255,
    Mean = [0, 0, 0], Std = [1, 1, 1], Dimension = featureDim, Normalization = "none", Distance = "dot",
};
File.WriteAllText(Path.Combine(work, "features.json"), featureManifest.ToJson());
using var featureEmbedder = new OnnxEmbedder(EmbeddingManifest.Load(Path.Combine(work, "features.json")), 1, 32);
Log($"feature graph: {featureDim} dims");

// 2. Training pictures: windows (classes) and augmented views.
var pictures = Directory.GetFiles(trainDir).Order(StringComparer.Ordinal).Take(int.Parse(Opt("limit", "100000"))).ToList();
if (originalsDir != "none") pictures.AddRange(Directory.GetFiles(originalsDir).Order(StringComparer.Ordinal));
Log($"{pictures.Count} training pictures");
var perPicture = new (float[][] Rows, int Classes)[pictures.Count];
Parallel.For(0, pictures.Count, new ParallelOptions { MaxDegreeOfParallelism = threads }, p =>
{
    var rng = new Random(seed * 100_003 + p);
    using var image = Cv2.ImRead(pictures[p], ImreadModes.Color);
    if (image.Empty()) { perPicture[p] = ([], 0); return; }
    var mats = new List<Mat>();
    var windows = new List<(double, double, double, double)> { (0, 0, 1, 1) };
    for (var extra = 0; extra < 2; extra++)
    {
        var side = 0.5 + rng.NextDouble() * 0.25;
        windows.Add((rng.NextDouble() * (1 - side), rng.NextDouble() * (1 - side), side, side));
    }
    foreach (var win in windows)
    {
        var mirror = rng.NextDouble() < 0.5;
        var anchor = new ImageWindow(win.Item1, win.Item2, win.Item3, win.Item4, mirror).Cut(image);
        mats.Add(anchor);
        for (var v = 0; v < views; v++) mats.Add(Augment.View(image, win, mirror, rng));
    }
    var rows = featureEmbedder.EmbedBatch(mats);
    foreach (var m in mats) m.Dispose();
    perPicture[p] = (rows, windows.Count);
    if (p % 50 == 0) Log($"picture {p}/{pictures.Count}");
});
var perClass = views + 1;
var classes = new List<float[][]>();
foreach (var (rows, count) in perPicture)
    for (var c = 0; c < count; c++) classes.Add(rows.Skip(c * perClass).Take(perClass).ToArray());
Log($"{classes.Count} classes × {perClass} views");

// 3. LDA: maximise between-window scatter over within-window (augmentation) scatter.
var d = featureDim;
var n = classes.Sum(c => c.Length);
var mean = new double[d];
foreach (var c in classes) foreach (var r in c) for (var j = 0; j < d; j++) mean[j] += r[j];
for (var j = 0; j < d; j++) mean[j] /= n;
var within = Matrix<double>.Build.Dense(n, d);
var between = Matrix<double>.Build.Dense(classes.Count, d);
var row = 0;
for (var ci = 0; ci < classes.Count; ci++)
{
    var c = classes[ci];
    var cm = new double[d];
    foreach (var r in c) for (var j = 0; j < d; j++) cm[j] += r[j] / c.Length;
    for (var j = 0; j < d; j++) between[ci, j] = cm[j] - mean[j];
    foreach (var r in c) { for (var j = 0; j < d; j++) within[row, j] = r[j] - cm[j]; row++; }
}
var sw = within.TransposeThisAndMultiply(within) / n;
var sb = between.TransposeThisAndMultiply(between) / classes.Count;
var reg = double.Parse(Opt("reg", "0.1"), System.Globalization.CultureInfo.InvariantCulture);
sw += Matrix<double>.Build.DenseIdentity(d) * (reg * sw.Trace() / d);
var chol = sw.Cholesky();
var linv = chol.Factor.Inverse();
var a = linv * sb * linv.Transpose();
a = (a + a.Transpose()) / 2;
var evd = a.Evd(Symmetricity.Symmetric);
var order = Enumerable.Range(0, d).OrderByDescending(i => evd.EigenValues[i].Real).Take(outDim).ToArray();
var u = Matrix<double>.Build.Dense(d, outDim, (i, j) => evd.EigenVectors[i, order[j]]);
var w = linv.Transpose() * u;
Log($"LDA fitted; top eigenvalues {string.Join(", ", order.Take(5).Select(i => evd.EigenValues[i].Real.ToString("0.0")))}");

// 4. Final model = feature graph + (x - mean) · W.
var g = new OnnxGraph();
var f = FeatureGraph.Build(g, out _);
var centred = g.Node("Sub", [f, g.Constant("mean", mean.Select(x => (float)x).ToArray(), d)]);
var wFlat = new float[d * outDim];
for (var i = 0; i < d; i++) for (var j = 0; j < outDim; j++) wFlat[i * outDim + j] = (float)w[i, j];
g.Node("MatMul", [centred, g.Constant("projection", wFlat, d, outDim)], null, "embedding");
g.Output("embedding", "N", outDim);
Directory.CreateDirectory(outDir);
File.WriteAllBytes(Path.Combine(outDir, name + ".onnx"), g.ToModel(name));
var manifest = new EmbeddingManifest
{
    Name = name, Model = name + ".onnx", Input = FeatureGraph.Input, Output = "embedding",
    Size = FeatureGraph.Size, Layout = "NCHW", Channels = "RGB", Resize = "stretch", PixelScale = 255,
    Mean = [0, 0, 0], Std = [1, 1, 1], Dimension = outDim, Normalization = "l2", Distance = "cosine",
};
File.WriteAllText(Path.Combine(outDir, name + ".json"), manifest.ToJson());
Log($"wrote {Path.Combine(outDir, name + ".onnx")} ({new FileInfo(Path.Combine(outDir, name + ".onnx")).Length / 1024} KiB)");
Directory.Delete(work, true);

if (evalDir != "none")
{
    using var embedder = new OnnxEmbedder(EmbeddingManifest.Load(Path.Combine(outDir, name + ".json")), threads, 32);
    var result = LeakbenchEvaluation.Run(evalDir, embedder.EmbedBatch, log: Log);
    foreach (var r in result) Console.Error.WriteLine($"{r.Family,-10} n={r.Queries,3}  top10 embedding {r.Embedding:P0} pHash {r.PHash:P0}   top1 embedding {r.EmbeddingTop1:P0} pHash {r.PHashTop1:P0}");
    Console.WriteLine(JsonSerializer.Serialize(result));
}
