using System.Buffers;
using System.Collections.Concurrent;
using System.Numerics.Tensors;
using Microsoft.ML.OnnxRuntime;
using OpenCvSharp;

namespace LeakHunter.Index.Embedding;

/// <summary>Options of the embedder, bound from configuration section "Embedding".</summary>
public sealed class EmbedderOptions
{
    public const string Section = "Embedding";

    /// <summary>Whether the node embeds originals and queries (a source of match candidates).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Manifest of the model; default: models/leakhunter-copydetect.json found beside the executable or above the working directory.</summary>
    public string? Manifest { get; set; }

    /// <summary>Threads ONNX Runtime may use inside one inference (intra-op).</summary>
    public int Threads { get; set; } = 1;

    /// <summary>Images per inference call.</summary>
    public int BatchSize { get; set; } = 16;
}

/// <summary>
/// Runs an ONNX image encoder described by an <see cref="EmbeddingManifest"/>: decodes with OpenCV,
/// resizes (stretch or shorter-side + centre crop), normalises, batches, and returns embeddings
/// (L2-normalised when the manifest says so). One <see cref="InferenceSession"/> per model per
/// process (<see cref="Shared"/>); thread-safe.
/// </summary>
public sealed class OnnxEmbedder : IDisposable
{
    private static readonly ConcurrentDictionary<string, Lazy<OnnxEmbedder>> Sessions = new();

    private readonly InferenceSession _session;
    private readonly bool _batchable;
    private readonly int _batchSize;

    public const string DefaultModelName = "leakhunter-copydetect";

    public OnnxEmbedder(EmbeddingManifest manifest, int threads = 1, int batchSize = 16)
    {
        Manifest = manifest;
        if (!File.Exists(manifest.ModelPath)) throw new FileNotFoundException($"model {manifest.ModelPath} not found", manifest.ModelPath);
        var so = new SessionOptions
        {
            IntraOpNumThreads = Math.Max(1, threads),
            InterOpNumThreads = 1,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
        };
        _session = new InferenceSession(manifest.ModelPath, so);
        if (!_session.InputMetadata.TryGetValue(manifest.Input, out var input))
            throw new InvalidDataException($"model {manifest.ModelPath} has no input '{manifest.Input}' (it has {string.Join(", ", _session.InputMetadata.Keys)})");
        if (!_session.OutputMetadata.ContainsKey(manifest.Output))
            throw new InvalidDataException($"model {manifest.ModelPath} has no output '{manifest.Output}' (it has {string.Join(", ", _session.OutputMetadata.Keys)})");
        _batchable = input.Dimensions.Length == 4 && input.Dimensions[0] <= 0;
        _batchSize = _batchable ? Math.Max(1, batchSize) : 1;
    }

    public EmbeddingManifest Manifest { get; }
    public int Dimension => Manifest.Dimension;

    /// <summary>The process-wide embedder for this configuration (one session per model file).</summary>
    public static OnnxEmbedder Shared(EmbedderOptions options)
    {
        var path = Path.GetFullPath(options.Manifest ?? FindDefaultManifest()
            ?? throw new FileNotFoundException($"no Embedding:Manifest configured and models/{DefaultModelName}.json not found beside the executable or above the working directory (set Embedding:Manifest, or Embedding:Enabled=false to match without the model)"));
        return Sessions.GetOrAdd(path, p => new Lazy<OnnxEmbedder>(() =>
            new OnnxEmbedder(EmbeddingManifest.Load(p), options.Threads, options.BatchSize))).Value;
    }

    /// <summary>models/leakhunter-copydetect.json beside the executable, or in the working directory or one of its parents.</summary>
    public static string? FindDefaultManifest()
    {
        var name = Path.Combine("models", DefaultModelName + ".json");
        foreach (var start in new[] { AppContext.BaseDirectory, Directory.GetCurrentDirectory() })
        {
            for (var dir = new DirectoryInfo(start); dir != null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, name);
                if (File.Exists(candidate)) return candidate;
            }
        }
        return null;
    }

    /// <summary>Embeds encoded image bytes (JPEG, PNG, WebP, …).</summary>
    public float[] Embed(byte[] encoded)
    {
        using var mat = Cv2.ImDecode(encoded, ImreadModes.Color);
        if (mat.Empty()) throw new InvalidDataException("image could not be decoded");
        return Embed(mat);
    }

    /// <summary>Embeds one decoded BGR (or gray/BGRA) picture; a sub-Mat (window) is fine.</summary>
    public float[] Embed(Mat image) => EmbedBatch([image])[0];

    /// <summary>Embeds many pictures, in batches of the configured size.</summary>
    public float[][] EmbedBatch(IReadOnlyList<Mat> images)
    {
        var result = new float[images.Count][];
        for (var start = 0; start < images.Count; start += _batchSize)
            EmbedInto(images, start, Math.Min(_batchSize, images.Count - start), result);
        return result;
    }

    /// <summary>Embeds images[start .. start + n) in one run of the model, into the same places of <paramref name="result"/>.</summary>
    private void EmbedInto(IReadOnlyList<Mat> images, int start, int n, float[][] result)
    {
        var m = Manifest;
        int h = m.InputHeight, w = m.InputWidth, plane = h * w, length = n * 3 * plane;
        // Pooled: one picture's input is 200 KB at 128 px, and a fresh large array per query costs its page zeroing.
        var data = ArrayPool<float>.Shared.Rent(length);
        try
        {
            for (var b = 0; b < n; b++) Preprocess(images[start + b], data.AsSpan(b * 3 * plane, 3 * plane));
            long[] shape = m.Layout == "NCHW" ? [n, 3, h, w] : [n, h, w, 3];
            using var input = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, data.AsMemory(0, length), shape);
            using var runOptions = new RunOptions();
            using var outputs = _session.Run(runOptions, [m.Input], [input], [m.Output]);
            var output = outputs[0].GetTensorDataAsSpan<float>();
            if (output.Length != n * m.Dimension)
                throw new InvalidDataException($"model output '{m.Output}' has {output.Length / n} values per image, the manifest says {m.Dimension}");
            for (var b = 0; b < n; b++)
            {
                var e = output.Slice(b * m.Dimension, m.Dimension).ToArray();
                if (m.Normalization == "l2")
                {
                    var norm = TensorPrimitives.Norm(e);
                    if (norm > 0) TensorPrimitives.Divide(e, norm, e);
                }
                result[start + b] = e;
            }
        }
        finally { ArrayPool<float>.Shared.Return(data); }
    }

    /// <summary>Resize, crop and normalise one picture into the model's input layout.</summary>
    public void Preprocess(Mat image, Span<float> destination)
    {
        var m = Manifest;
        int h = m.InputHeight, w = m.InputWidth;
        // An 8-bit BGR picture (every decoded one) is read where it is; others are converted first.
        using var converted = image.Type() == MatType.CV_8UC3 ? null : ToBgr(image);
        var bgr = converted ?? image;
        using var sized = new Mat();
        if (m.Resize == "stretch")
        {
            Cv2.Resize(bgr, sized, new Size(w, h), 0, 0, bgr.Width > w || bgr.Height > h ? InterpolationFlags.Area : InterpolationFlags.Linear);
        }
        else
        {
            var scale = Math.Max((double)w / bgr.Width, (double)h / bgr.Height);
            var rw = Math.Max(w, (int)Math.Round(bgr.Width * scale));
            var rh = Math.Max(h, (int)Math.Round(bgr.Height * scale));
            using var resized = new Mat();
            Cv2.Resize(bgr, resized, new Size(rw, rh), 0, 0, scale < 1 ? InterpolationFlags.Area : InterpolationFlags.Cubic);
            using var crop = new Mat(resized, new Rect((rw - w) / 2, (rh - h) / 2, w, h));
            crop.CopyTo(sized);
        }
        var rgb = m.Channels == "RGB";
        var plane = h * w;
        Span<float> mul = stackalloc float[3];
        Span<float> add = stackalloc float[3];
        for (var c = 0; c < 3; c++)
        {
            mul[c] = 1f / (m.PixelScale * m.Std[c]);
            add[c] = -m.Mean[c] / m.Std[c];
        }
        // Where channel c of pixel i goes: planes (NCHW) or interleaved (NHWC); decided once, not per value.
        bool planar = m.Layout == "NCHW";
        int channelStride = planar ? plane : 1, pixelStride = planar ? 1 : 3;
        for (var y = 0; y < h; y++)
        {
            var row = Row(sized, y, w * 3);
            for (var c = 0; c < 3; c++)
            {
                int source = rgb ? 2 - c : c, target = c * channelStride + y * w * pixelStride;
                float scale = mul[c], offset = add[c];
                for (var x = 0; x < w; x++)
                    destination[target + x * pixelStride] = row[x * 3 + source] * scale + offset;
            }
        }
    }

    private static unsafe ReadOnlySpan<byte> Row(Mat m, int y, int length) => new((void*)m.Ptr(y), length);

    private static Mat ToBgr(Mat image)
    {
        var bgr = new Mat();
        switch (image.Channels())
        {
            case 1: Cv2.CvtColor(image, bgr, ColorConversionCodes.GRAY2BGR); break;
            case 4: Cv2.CvtColor(image, bgr, ColorConversionCodes.BGRA2BGR); break;
            case 3: image.CopyTo(bgr); break;
            default: throw new InvalidDataException($"unsupported channel count {image.Channels()}");
        }
        if (bgr.Depth() != MatType.CV_8U) bgr.ConvertTo(bgr, MatType.CV_8UC3);
        return bgr;
    }

    public void Dispose() => _session.Dispose();
}
