namespace LeakHunter.Crawler.Grains;

/// <summary>What this silo process has done since it started: pages and images fetched, images matched.</summary>
public sealed class SiloWorkCounters
{
    private long pages;
    private long images;
    private long matched;

    public void PageFetched() => Interlocked.Increment(ref pages);
    public void ImageFetched() => Interlocked.Increment(ref images);
    public void ImageMatched() => Interlocked.Increment(ref matched);

    public long Pages => Interlocked.Read(ref pages);
    public long Images => Interlocked.Read(ref images);
    public long Matched => Interlocked.Read(ref matched);
}
