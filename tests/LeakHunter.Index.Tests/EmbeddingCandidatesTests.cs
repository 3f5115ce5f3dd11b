using LeakHunter.Index.Embedding;
using LeakHunter.Index.Matching;
using LeakHunter.Index.Vectors;
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
