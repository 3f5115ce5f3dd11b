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

    [Theory]
    [InlineData(1, false)]
    [InlineData(8, false)]
    [InlineData(13, true)]
    [InlineData(1003, false)]
    [InlineData(1003, true)]
    public void Eight_at_a_time_gives_what_the_scalar_loop_gives(int trainCount, bool manyTies)
    {
        if (!PopCount256.IsSupported)
            return; // this processor runs the scalar loop only, which the test above covers
        var rng = new Random(trainCount * 2 + (manyTies ? 1 : 0));
        // With many ties, words come from a few values, so equal distances (and equal nearest) are common.
        ulong Word() => manyTies ? (ulong)rng.Next(4) * 0x0101010101010101UL : (ulong)rng.NextInt64() ^ ((ulong)rng.Next() << 63);
        var train = new ulong[trainCount * 4];
        for (int i = 0; i < train.Length; i++) train[i] = Word();
        var planes = HammingKnn.Planes(train);
        for (int trial = 0; trial < 20; trial++)
        {
            var query = new[] { Word(), Word(), Word(), Word() };
            var scalarDistances = new int[trainCount];
            var vectorDistances = new int[planes.Length / 4];
            var scalar = HammingKnn.Distances(query, train, scalarDistances);
            var vector = HammingKnn.Distances(query, planes, trainCount, vectorDistances);
            Assert.Equal(scalarDistances, vectorDistances.Take(trainCount));
            Assert.Equal(scalar.Best, vector.Best);
            Assert.Equal(scalar.BestDistance, vector.BestDistance);
            Assert.Equal(scalar.SecondDistance, vector.SecondDistance);
            if (vector.Second >= 0)
            {
                Assert.NotEqual(vector.Best, vector.Second);
                Assert.Equal(vector.SecondDistance, scalarDistances[vector.Second]);
            }
            else
                Assert.Equal(-1, scalar.Second);
        }
    }
}
