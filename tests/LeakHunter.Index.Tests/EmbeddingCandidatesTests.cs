using LeakHunter.Index.Embedding;
using LeakHunter.Index.Matching;
using LeakHunter.Index.Vectors;
using Microsoft.Extensions.Configuration;
using OpenCvSharp;

namespace LeakHunter.Index.Tests;

/// <summary>
/// The matcher's embedding candidates: every registered original's windows go into the vector index,
/// leave it on removal, come back from the fingerprints when the index is lost, and a heavily edited
/// copy finds its original through them.
/// </summary>
public sealed class EmbeddingCandidatesTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "lh-embcand-" + Guid.NewGuid().ToString("N"));

    private EmbeddingCandidates OpenCandidates()
    {
        var embedder = OnnxEmbedder.Shared(new EmbedderOptions { Manifest = TestData.DefaultManifest() });
        var index = EmbeddedVectorIndex.Open(Path.Combine(_dir, "vectors"), new VectorIndexOptions { Dimension = embedder.Dimension, Fsync = false });
        return new EmbeddingCandidates(embedder, index);
    }

    [Fact]
    public void Registration_fills_the_vector_index_and_removal_empties_it()
    {
        using var candidates = OpenCandidates();
        using var matcher = new CopyMatcher(new MatcherOptions(), null, candidates);
        using var a = TestImages.Scene(410);
        using var b = TestImages.Scene(411);
        matcher.Register("a", TestImages.Jpeg(a, 95));
        matcher.Register("b", TestImages.Jpeg(b, 95));
        int windows = CopyWindows.Default.Count;
        Assert.Equal(2L * windows, candidates.Count);

        Assert.True(matcher.Remove("a"));
        Assert.Equal(windows, candidates.Count);
        Assert.DoesNotContain(candidates.Search(candidates.EmbedQuery(a), 5, _ => true), c => c.OriginalId == "a");
    }

    [Fact]
    public void A_recoloured_blurred_mirrored_copy_finds_its_original_by_embedding()
    {
        using var candidates = OpenCandidates();
        using var matcher = new CopyMatcher(new MatcherOptions(), null, candidates);
        using var original = TestImages.Scene(420);
        foreach (int seed in new[] { 421, 422, 423, 424 })
        {
            using var other = TestImages.Scene(seed);
            matcher.Register($"other-{seed}", TestImages.Jpeg(other, 95));
        }
        matcher.Register("original", TestImages.Jpeg(original, 95));

        using var edited = new Mat();
        Cv2.Flip(original, edited, FlipMode.Y);
        Cv2.GaussianBlur(edited, edited, new Size(9, 9), 3);
        edited.ConvertTo(edited, -1, 0.7, 40);
        var hits = candidates.Search(candidates.EmbedQuery(edited), 3, _ => true);
        Assert.Equal(("original", true), (hits[0].OriginalId, hits[0].Mirror));
        // and another workspace's originals are never offered
        Assert.DoesNotContain(candidates.Search(candidates.EmbedQuery(edited), 3, id => id != "original"), h => h.OriginalId == "original");
    }

    [Fact]
    public void A_lost_vector_index_is_rebuilt_from_the_fingerprints_and_old_fingerprints_are_reported()
    {
        var fingerprints = Path.Combine(_dir, "index");
        using var a = TestImages.Scene(430);
        using (var plain = new CopyMatcher(new MatcherOptions(), fingerprints))
            plain.Register("registered-without-embeddings", TestImages.Jpeg(a, 95));
        using (var candidates = OpenCandidates())
        using (var matcher = new CopyMatcher(new MatcherOptions(), fingerprints, candidates))
        {
            Assert.Equal(["registered-without-embeddings"], matcher.IdsWithoutEmbeddings);
            matcher.Register("registered-without-embeddings", TestImages.Jpeg(a, 95)); // what the index sync does
            Assert.Empty(matcher.IdsWithoutEmbeddings);
        }
        Directory.Delete(Path.Combine(_dir, "vectors"), recursive: true);
        using (var candidates = OpenCandidates())
        using (var matcher = new CopyMatcher(new MatcherOptions(), fingerprints, candidates))
        {
            Assert.Equal(CopyWindows.Default.Count, candidates.Count);
            Assert.Equal("registered-without-embeddings", candidates.Search(candidates.EmbedQuery(a), 1, _ => true)[0].OriginalId);
        }
    }

    public void Dispose()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }
}

/// <summary>The node's wiring: configuration picks the model and the vector index, or turns them off.</summary>
public sealed class EmbeddingConfigurationTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "lh-embconf-" + Guid.NewGuid().ToString("N"));

    private static IConfiguration Config(params (string Key, string Value)[] values) =>
        new ConfigurationBuilder()
            .AddInMemoryCollection(values.Select(v => new KeyValuePair<string, string?>(v.Key, v.Value))
                .Append(new KeyValuePair<string, string?>("Embedding:Manifest", TestData.DefaultManifest())))
            .Build();

    [Fact]
    public void By_default_the_node_fills_an_embedded_index_in_its_data_directory()
    {
        using var candidates = IndexServiceExtensions.CreateEmbeddingCandidates(Config(), _dir);
        Assert.NotNull(candidates);
        Assert.IsType<EmbeddedVectorIndex>(candidates.Index);
        Assert.Equal(256, candidates.Index.Dimension);
        Assert.True(File.Exists(Path.Combine(_dir, "vectors", "vectors.log")));
    }

    [Fact]
    public void The_model_can_be_switched_off_and_a_wrong_dimension_or_kind_is_refused()
    {
        Assert.Null(IndexServiceExtensions.CreateEmbeddingCandidates(Config(("Embedding:Enabled", "false")), _dir));
        var wrongDimension = Assert.Throws<InvalidOperationException>(() => IndexServiceExtensions.CreateEmbeddingCandidates(Config(("Index:Dimension", "512")), _dir));
        Assert.Contains("Index:Dimension", wrongDimension.Message);
        var wrongKind = Assert.Throws<ArgumentException>(() => IndexServiceExtensions.CreateEmbeddingCandidates(Config(("Index:Kind", "faiss")), _dir));
        Assert.Contains("Index:Kind", wrongKind.Message);
    }

    public void Dispose()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }
}
