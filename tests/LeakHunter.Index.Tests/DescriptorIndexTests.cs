using LeakHunter.Index.Matching;

namespace LeakHunter.Index.Tests;

public class DescriptorIndexTests
{
    private static byte[] RandomDescriptors(Random rng, int count)
    {
        var bytes = new byte[count * FeatureSet.DescriptorBytes];
        rng.NextBytes(bytes);
        return bytes;
    }

    /// <summary>Each descriptor with <paramref name="bits"/> distinct random bits flipped (a corner seen again in a copy).</summary>
    private static byte[] Perturbed(byte[] descriptors, int bits, Random rng)
    {
        var copy = (byte[])descriptors.Clone();
        for (int d = 0; d < copy.Length / FeatureSet.DescriptorBytes; d++)
            foreach (int bit in Enumerable.Range(0, 256).OrderBy(_ => rng.Next()).Take(bits))
                copy[d * FeatureSet.DescriptorBytes + bit / 8] ^= (byte)(1 << (bit % 8));
        return copy;
    }

    [Fact]
    public void A_copy_whose_descriptors_moved_a_few_bits_votes_for_its_original_and_unrelated_descriptors_do_not()
    {
        var rng = new Random(7);
        var index = new DescriptorIndex();
        var originals = Enumerable.Range(0, 20).Select(_ => RandomDescriptors(rng, 300)).ToArray();
        foreach (var o in originals)
            index.Add(o);

        var copy = Perturbed(originals[13], bits: 20, rng);
        var votes = index.Vote(copy, maxCheckDistance: 16, minVotes: 4, top: 3, _ => true);
        Assert.Equal(13, votes[0].Slot);
        // 20 of 256 bits moved: a key of 16 survives in 28 % of tables, so most descriptors find their twin
        Assert.True(votes[0].Votes > 200, $"{votes[0].Votes} votes");

        var unrelated = index.Vote(RandomDescriptors(rng, 300), maxCheckDistance: 16, minVotes: 4, top: 3, _ => true);
        Assert.Empty(unrelated);
    }

    [Fact]
    public void Removed_and_ineligible_originals_get_no_place_in_the_ranking()
    {
        var rng = new Random(8);
        var index = new DescriptorIndex();
        var a = RandomDescriptors(rng, 200);
        int slotA = index.Add(a);
        int slotB = index.Add(a.Concat(RandomDescriptors(rng, 10)).ToArray());

        Assert.Equal([slotA, slotB], index.Vote(a, 16, 4, 5, _ => true).Select(v => v.Slot).Order());
        Assert.Equal([slotB], index.Vote(a, 16, 4, 5, slot => slot != slotA).Select(v => v.Slot));
        index.Remove(slotB);
        Assert.Equal([slotA], index.Vote(a, 16, 4, 5, _ => true).Select(v => v.Slot));
    }
}
