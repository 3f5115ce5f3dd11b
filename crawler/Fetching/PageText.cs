using System.Text;
using System.Text.RegularExpressions;

namespace LeakHunter.Crawler.Fetching;

/// <summary>Turns a page's bytes into text: BOM, then the Content-Type charset, then a meta charset, then UTF-8.</summary>
public static partial class PageText
{
    static PageText() => Encoding.RegisterProvider(CodePagesEncodingProvider.Instance);

    [GeneratedRegex(@"charset\s*=\s*[""']?(?<charset>[A-Za-z0-9._:\-]+)", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, 1000)] // input is at most 1 KB; the timeout (wall clock) only guards pathology
    private static partial Regex Charset();

    public static string Decode(byte[] body, string? contentTypeHeader)
    {
        var encoding = FromBom(body) ?? FromCharset(contentTypeHeader) ?? FromMeta(body) ?? Encoding.UTF8;
        return encoding.GetString(body);
    }

    private static Encoding? FromBom(byte[] body) => body switch
    {
        [0xEF, 0xBB, 0xBF, ..] => Encoding.UTF8,
        [0xFF, 0xFE, ..] => Encoding.Unicode,
        [0xFE, 0xFF, ..] => Encoding.BigEndianUnicode,
        _ => null,
    };

    private static Encoding? FromMeta(byte[] body)
    {
        // The meta charset must appear in the first 1024 bytes (HTML spec); ASCII is enough to read it.
        var head = Encoding.ASCII.GetString(body, 0, Math.Min(body.Length, 1024));
        var meta = head.IndexOf("<meta", StringComparison.OrdinalIgnoreCase);
        return meta < 0 ? null : FromCharset(head[meta..]);
    }

    private static Encoding? FromCharset(string? text)
    {
        if (string.IsNullOrEmpty(text)) return null;
        var match = Charset().Match(text);
        if (!match.Success) return null;
        try
        {
            return Encoding.GetEncoding(match.Groups["charset"].Value);
        }
        catch (ArgumentException)
        {
            return null; // unknown charset name: fall back
        }
    }
}
