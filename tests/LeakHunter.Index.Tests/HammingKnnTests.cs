using LeakHunter.Index.Matching;

namespace LeakHunter.Index.Tests;

public class HammingKnnTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(1003)]
    public void Distances_equal_bit_by_bit_counts_and_the_nearest_two_are_found(int trainCount)
    {
        var rng = new Random(trainCount);
        var query = new ulong[4];
        var train = new ulong[trainCount * 4];
        for (int i = 0; i < 4; i++) query[i] = (ulong)rng.NextInt64() ^ ((ulong)rng.Next() << 63);
        for (int i = 0; i < train.Length; i++) train[i] = (ulong)rng.NextInt64() ^ ((ulong)rng.Next() << 63);
        train[0] = query[0]; // one word identical, and an all-ones word: the extremes of a lane
        if (train.Length > 5) train[5] = ~query[1];
        var distances = new int[trainCount];
        var (best, bestDistance, second, secondDistance) = HammingKnn.Distances(query, train, distances);
        var expected = new int[trainCount];
        for (int j = 0; j < trainCount; j++)
            for (int w = 0; w < 4; w++)
                for (int bit = 0; bit < 64; bit++)
                    expected[j] += (int)(((query[w] ^ train[j * 4 + w]) >> bit) & 1);
        Assert.Equal(expected, distances);
        var order = Enumerable.Range(0, trainCount).OrderBy(j => expected[j]).ThenBy(j => j).ToArray();
        Assert.Equal(expected[order[0]], bestDistance);
        Assert.Equal(expected[best], bestDistance);
        if (trainCount > 1)
        {
            Assert.NotEqual(best, second);
            Assert.Equal(expected[order[1]], secondDistance);
            Assert.Equal(expected[second], secondDistance);
        }
        else
            Assert.Equal(-1, second);
    }
}
