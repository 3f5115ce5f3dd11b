using System.Text.Json;
using System.Text.Json.Serialization;

namespace LeakHunter.Index.Embedding;

/// <summary>
/// Describes an ONNX image encoder; lives beside the model as <c>NAME.json</c> (see models/README.md).
/// Pixels are read as RGB (or BGR) in [0, 255], divided by <see cref="PixelScale"/>, then normalised
/// per channel as (x - mean) / std.
/// </summary>
public sealed class EmbeddingManifest
{
    /// <summary>Display name of the model.</summary>
    public string Name { get; set; } = "";
    /// <summary>The .onnx file, relative to the manifest.</summary>
    public string Model { get; set; } = "";
    /// <summary>Name of the image input of the graph.</summary>
    public string Input { get; set; } = "pixel_values";
    /// <summary>Name of the embedding output of the graph.</summary>
    public string Output { get; set; } = "image_embeds";
    /// <summary>Side of the square input in pixels (or [height, width] via Height/Width).</summary>
    public int Size { get; set; } = 224;
    public int? Height { get; set; }
    public int? Width { get; set; }
    /// <summary>"NCHW" or "NHWC".</summary>
    public string Layout { get; set; } = "NCHW";
    /// <summary>"RGB" or "BGR" channel order.</summary>
    public string Channels { get; set; } = "RGB";
    /// <summary>"center-crop": scale the shorter side to the input, cut the centre (CLIP);
    /// "stretch": scale the whole picture to the input, ignoring aspect (keeps every pixel, used by the default model).</summary>
    public string Resize { get; set; } = "center-crop";
    /// <summary>Pixels are divided by this before mean/std (255 for [0, 1] models).</summary>
    public float PixelScale { get; set; } = 255f;
    public float[] Mean { get; set; } = [0f, 0f, 0f];
    public float[] Std { get; set; } = [1f, 1f, 1f];
    /// <summary>Length of the embedding.</summary>
    public int Dimension { get; set; }
    /// <summary>"l2" to scale each embedding to unit length, "none" to keep the graph's output.</summary>
    public string Normalization { get; set; } = "l2";
    /// <summary>How embeddings compare: "cosine" (or "dot"); the vector index uses cosine.</summary>
    public string Distance { get; set; } = "cosine";

    [JsonIgnore] public string ModelPath { get; private set; } = "";
    [JsonIgnore] public int InputHeight => Height ?? Size;
    [JsonIgnore] public int InputWidth => Width ?? Size;

    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        PropertyNameCaseInsensitive = true,
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
        WriteIndented = true,
    };

    /// <summary>Reads and checks a manifest; the model path is resolved against the manifest's folder.</summary>
    public static EmbeddingManifest Load(string manifestPath)
    {
        EmbeddingManifest m;
        try
        {
            m = JsonSerializer.Deserialize<EmbeddingManifest>(File.ReadAllText(manifestPath), Json)
                ?? throw new InvalidDataException($"{manifestPath}: empty manifest");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{manifestPath}: {e.Message}", e);
        }
        if (string.IsNullOrEmpty(m.Model))
            m.Model = Path.GetFileNameWithoutExtension(manifestPath) + ".onnx";
        m.ModelPath = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(Path.GetFullPath(manifestPath))!, m.Model));
        m.Validate(manifestPath);
        return m;
    }

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    private void Validate(string where)
    {
        void Fail(string what) => throw new InvalidDataException($"{where}: {what}");
        if (InputHeight <= 0 || InputWidth <= 0) Fail("size must be positive");
        if (Layout is not ("NCHW" or "NHWC")) Fail($"layout must be NCHW or NHWC, not {Layout}");
        if (Channels is not ("RGB" or "BGR")) Fail($"channels must be RGB or BGR, not {Channels}");
        if (Resize is not ("center-crop" or "stretch")) Fail($"resize must be center-crop or stretch, not {Resize}");
        if (Mean.Length != 3 || Std.Length != 3 || Std.Any(s => s == 0)) Fail("mean and std need 3 values, std non-zero");
        if (Dimension <= 0) Fail("dimension must be positive");
        if (Normalization is not ("l2" or "none")) Fail($"normalization must be l2 or none, not {Normalization}");
        if (Distance is not ("cosine" or "dot")) Fail($"distance must be cosine or dot, not {Distance}");
        if (PixelScale <= 0) Fail("pixelScale must be positive");
    }
}
