using System.Numerics.Tensors;
using LeakHunter.Index.Embedding;
using OpenCvSharp;

namespace LeakHunter.Index.Tests;

public sealed class EmbeddingTests
{
    private static Mat Picture(int seed)
    {
        var rng = new Random(seed);
        var m = new Mat(240, 320, MatType.CV_8UC3, new Scalar(rng.Next(256), rng.Next(256), rng.Next(256)));
        for (var i = 0; i < 25; i++)
            Cv2.Circle(m, new Point(rng.Next(320), rng.Next(240)), rng.Next(5, 60), new Scalar(rng.Next(256), rng.Next(256), rng.Next(256)), -1);
        Cv2.PutText(m, "seed " + seed, new Point(20, 200), HersheyFonts.HersheySimplex, 1.5, Scalar.White, 3);
        return m;
    }

    [Fact]
    public void Default_model_embeds_copies_near_and_other_pictures_far()
    {
        var embedder = OnnxEmbedder.Shared(new EmbedderOptions { Manifest = TestData.DefaultManifest() });
        Assert.Same(embedder, OnnxEmbedder.Shared(new EmbedderOptions { Manifest = TestData.DefaultManifest() }));
        Assert.Equal(256, embedder.Dimension);
        using var a = Picture(1);
        using var b = Picture(2);
        Cv2.ImEncode(".jpg", a, out var jpeg, new ImageEncodingParam(ImwriteFlags.JpegQuality, 30));
        using var small = new Mat();
        Cv2.Resize(a, small, new Size(160, 120), 0, 0, InterpolationFlags.Area);
        var ea = embedder.Embed(a);
        var copyJpeg = embedder.Embed(jpeg);
        var copySmall = embedder.Embed(small);
        var other = embedder.Embed(b);
        Assert.InRange(TensorPrimitives.Norm(ea), 0.999f, 1.001f);
        var near = Math.Min(TensorPrimitives.Dot(ea, copyJpeg), TensorPrimitives.Dot(ea, copySmall));
        var far = TensorPrimitives.Dot(ea, other);
        Assert.True(near > far + 0.2f, $"copies {near}, other picture {far}");
        // A batch gives the same embeddings as one at a time.
        var batch = embedder.EmbedBatch([a, b, small]);
        Assert.Equal(ea, batch[0], (x, y) => Math.Abs(x - y) < 1e-4f);
        Assert.Equal(other, batch[1], (x, y) => Math.Abs(x - y) < 1e-4f);
    }

    [Fact]
    public void Preprocessing_follows_the_manifest()
    {
        var m = EmbeddingManifest.Load(TestData.DefaultManifest());
        using var embedder = new OnnxEmbedder(m, 1, 4);
        // A 2:1 picture, left half pure red, right half pure blue (BGR).
        using var img = new Mat(100, 200, MatType.CV_8UC3, new Scalar(255, 0, 0));
        img[new Rect(0, 0, 100, 100)].SetTo(new Scalar(0, 0, 255));
        var size = m.InputHeight * m.InputWidth;
        var data = new float[3 * size];
        embedder.Preprocess(img, data);
        // stretch + NCHW + RGB in [0,1]: channel 0 (R) is 1 on the left, 0 on the right.
        Assert.Equal(1f, data[m.InputWidth / 4], 3);
        Assert.Equal(0f, data[3 * m.InputWidth / 4], 3);
        Assert.Equal(1f, data[2 * size + 3 * m.InputWidth / 4], 3);
    }

    [Fact]
    public void A_clip_style_manifest_is_read_and_checked()
    {
        var dir = Path.Combine(Path.GetTempPath(), "lh-manifest-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            var path = Path.Combine(dir, "clip-vit-b32.json");
            File.WriteAllText(path, """
                { "name": "CLIP ViT-B/32 vision", "model": "clip-vit-b32-vision.onnx",
                  "input": "pixel_values", "output": "image_embeds", "size": 224, "layout": "NCHW",
                  "channels": "RGB", "resize": "center-crop", "pixelScale": 255,
                  "mean": [0.48145466, 0.4578275, 0.40821073], "std": [0.26862954, 0.26130258, 0.27577711],
                  "dimension": 512, "normalization": "l2", "distance": "cosine" }
                """);
            var m = EmbeddingManifest.Load(path);
            Assert.Equal((224, 224, 512), (m.InputHeight, m.InputWidth, m.Dimension));
            Assert.Equal(Path.Combine(dir, "clip-vit-b32-vision.onnx"), m.ModelPath);
            Assert.Throws<FileNotFoundException>(() => new OnnxEmbedder(m));
            File.WriteAllText(path, """{ "model": "x.onnx", "layout": "CHWN", "dimension": 512 }""");
            Assert.Contains("layout", Assert.Throws<InvalidDataException>(() => EmbeddingManifest.Load(path)).Message);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void Windows_cover_crops_and_mirrors()
    {
        Assert.Equal(38, CopyWindows.Default.Count);
        Assert.Equal(CopyWindows.Default.Count, CopyWindows.Default.Select(w => w.Name).Distinct().Count());
        using var img = Picture(3);
        var w = new ImageWindow(0.5, 0.5, 0.5, 0.5, true);
        using var cut = w.Cut(img);
        Assert.Equal((160, 120), (cut.Width, cut.Height));
        Assert.Equal(img.At<Vec3b>(120, 319), cut.At<Vec3b>(0, 0));
    }
}
