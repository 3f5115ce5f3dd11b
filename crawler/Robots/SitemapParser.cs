using System.IO.Compression;
using System.Xml;

namespace LeakHunter.Crawler.Robots;

/// <summary>A sitemap file read: page URLs (urlset) or the URLs of further sitemaps (sitemapindex).</summary>
public sealed record SitemapDocument(bool IsIndex, IReadOnlyList<Uri> Urls);

/// <summary>Reads the URLs of a sitemap (urlset) or sitemap index, plain or gzipped, with caps against bombs.</summary>
public static class SitemapParser
{
    public const int MaxDecompressedBytes = 50 * 1024 * 1024;
    public const int MaxUrls = 50_000;

    public static IReadOnlyList<Uri> Parse(byte[] body) => Read(body).Urls;

    /// <summary>Reads a sitemap and tells an index (its root is &lt;sitemapindex&gt;) from a list of pages.</summary>
    public static SitemapDocument Read(byte[] body)
    {
        var isIndex = false;
        var sawRoot = false;
        Stream stream = new MemoryStream(body);
        if (body.Length >= 2 && body[0] == 0x1F && body[1] == 0x8B)
            stream = new CappedReadStream(new GZipStream(stream, CompressionMode.Decompress), MaxDecompressedBytes);
        var urls = new List<Uri>();
        var settings = new XmlReaderSettings { DtdProcessing = DtdProcessing.Prohibit, XmlResolver = null, IgnoreComments = true };
        try
        {
            using var reader = XmlReader.Create(stream, settings);
            while (reader.Read() && urls.Count < MaxUrls)
            {
                if (!sawRoot && reader.NodeType == XmlNodeType.Element)
                {
                    sawRoot = true;
                    isIndex = reader.LocalName == "sitemapindex";
                }
                if (reader.NodeType == XmlNodeType.Element && reader.LocalName == "loc"
                    && Uri.TryCreate(reader.ReadElementContentAsString().Trim(), UriKind.Absolute, out var url)
                    && url.Scheme is "http" or "https")
                    urls.Add(url);
            }
        }
        catch (Exception e) when (e is XmlException or InvalidDataException or IOException)
        {
            // A broken sitemap yields what was read before the damage.
        }
        return new SitemapDocument(isIndex, urls);
    }
}

/// <summary>A read-only stream that fails once more than a given number of bytes was read.</summary>
internal sealed class CappedReadStream(Stream inner, long cap) : Stream
{
    private long total;

    public override int Read(byte[] buffer, int offset, int count)
    {
        var read = inner.Read(buffer, offset, count);
        total += read;
        if (total > cap) throw new InvalidDataException($"more than {cap} bytes after decompression");
        return read;
    }

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => total; set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    protected override void Dispose(bool disposing)
    {
        if (disposing) inner.Dispose();
        base.Dispose(disposing);
    }
}
