using LeakHunter.Index.Hashing;
using LeakHunter.Index.Imaging;
using Xunit.Abstractions;

namespace LeakHunter.Index.Tests;

public class PdqTests(ITestOutputHelper output)
{
    public static IEnumerable<object[]> ReferenceImages()
    {
        var csv = TestData.Require("pdq", "expected.csv");
        foreach (var line in File.ReadLines(csv).Skip(1))
        {
            var parts = line.Split(',');
            if (parts.Length == 2)
                yield return [parts[0], parts[1]];
        }
    }

    [Theory]
    [MemberData(nameof(ReferenceImages))]
    public void Pdq_agrees_with_Meta_reference(string file, string expectedHex)
    {
        var bytes = File.ReadAllBytes(TestData.Require("pdq", "images", file));
        using var img = ImageDecoder.Decode(bytes);
        var result = Pdq.Compute(img.Bgr);
        int distance = result.Hash.Distance(Hash256.Parse(expectedHex));
        output.WriteLine($"{file}: {result.Hash.ToHex()} quality {result.Quality} distance {distance}");
        Assert.True(distance <= 16, $"{file}: PDQ distance {distance} to Meta's reference is over 16 bits");
    }

    [Fact]
    public void Pdq_of_mirror_differs_and_hex_round_trips()
    {
        var bytes = File.ReadAllBytes(TestData.Require("pdq", "images", "bridge-1-original.jpg"));
        using var img = ImageDecoder.Decode(bytes);
        var h = Pdq.Compute(img.Bgr);
        var m = Pdq.ComputeMirror(img.Bgr);
        Assert.Equal(h.Hash, Hash256.Parse(h.Hash.ToHex()));
        Assert.True(h.Hash.Distance(m.Hash) > 64);
        Assert.InRange(h.Quality, 50, 100);
    }

    [Theory]
    [InlineData("bridge-1-original.jpg", 0)]
    [InlineData("bridge-1-original.jpg", 256)]
    [InlineData("bridge-2-rotate-90.jpg", 256)]
    public void Mirror_hash_read_from_the_filtered_picture_nearly_equals_hashing_the_flipped_picture(string file, int longSide)
    {
        using var decoded = ImageDecoder.Decode(File.ReadAllBytes(TestData.Require("pdq", "images", file)));
        using var img = longSide == 0 ? decoded.Bgr.Clone() : Matching.CopyMatcher.Resize(decoded.Bgr, longSide, 0);
        var (hash, mirror) = Pdq.ComputeWithMirror(img);
        Assert.Equal(Pdq.Compute(img), hash);
        var exact = Pdq.ComputeMirror(img).Hash;
        output.WriteLine($"{file} at {img.Width}x{img.Height}: mirror read in reverse differs from the flipped picture's hash in {mirror.Distance(exact)} bits; the picture's own is {hash.Hash.Distance(exact)} away");
        // Only the box filters' clipped windows at the picture's edges differ (0 to 2 bits here; ignoring the
        // filters' off-centre shift made it 16 to 28).
        Assert.True(mirror.Distance(exact) <= 6, $"mirror hash {mirror.Distance(exact)} bits from the flipped picture's");
    }

    [Theory]
    [InlineData(7, 256, 2)] // a query thumbnail's rows (window 2), with rows left over after groups of four
    [InlineData(8, 129, 2)]
    [InlineData(5, 100, 1)]
    public void Rows_filtered_four_at_a_time_equal_the_plain_loop_bit_for_bit(int rows, int cols, int window)
    {
        var rng = new Random(rows * 1000 + cols);
        var input = Enumerable.Range(0, rows * cols).Select(_ => (float)(rng.NextDouble() * 255)).ToArray();
        var expected = new float[rows * cols];
        for (int r = 0; r < rows; r++)
            Hashing.Pdq.BoxRow(input, r * cols, expected, r * cols, cols, window);
        var actual = new float[rows * cols];
        Hashing.Pdq.BoxRows(input, actual, rows, cols, window);
        Assert.Equal(expected.Select(BitConverter.SingleToInt32Bits), actual.Select(BitConverter.SingleToInt32Bits));
    }
}
