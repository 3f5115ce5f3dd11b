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
}
