using System.Text.RegularExpressions;

namespace LeakHunter.Crawler.Urls;

/// <summary>
/// Recognises URLs that lead into crawler traps: endless calendars, paths that repeat a
/// segment (relative-link loops), absurdly long or deep URLs.
/// </summary>
public static partial class TrapGuard
{
    public const int MaxUrlLength = 2048;
    public const int MaxSegments = 25;
    public const int MaxRepeatsOfOneSegment = 3;

    // The timeouts are wall-clock guards against pathological input (URLs are capped at MaxUrlLength
    // before either runs); at 100 ms a busy two-core machine could trip them on an ordinary URL.
    [GeneratedRegex(@"(^|[/?&=_-])(19|20|21)\d{2}[/-](0?[1-9]|1[0-2])([/-](0?[1-9]|[12]\d|3[01]))?($|[/?&])", RegexOptions.CultureInvariant, 1000)]
    private static partial Regex DatePath();

    [GeneratedRegex(@"calendar|[?&](date|day|month|year|week)=", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, 1000)]
    private static partial Regex CalendarHint();

    public static bool LooksLikeTrap(Uri url)
    {
        var text = url.AbsoluteUri;
        if (text.Length > MaxUrlLength) return true;
        var segments = url.AbsolutePath.Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (segments.Length > MaxSegments) return true;
        if (segments.GroupBy(s => s, StringComparer.OrdinalIgnoreCase).Any(g => g.Count() >= MaxRepeatsOfOneSegment)) return true;
        // A date in the path is fine (blogs); a date and a calendar hint together is a calendar.
        return CalendarHint().IsMatch(url.PathAndQuery) && DatePath().IsMatch(url.PathAndQuery);
    }
}
