namespace LeakHunter.Crawler.Fetching;

public enum FetchStatus
{
    Ok,
    NotModified,
    HttpError,
    TooLarge,
    /// <summary>The address is private or reserved and private addresses are not allowed.</summary>
    Refused,
    Timeout,
    NetworkError,
    TooManyRedirects,
    /// <summary>A redirect led outside the crawl's scope or robots rules.</summary>
    OutOfScope,
    /// <summary>A redirect to another site: the caller continues there (that site's robots and politeness apply). <see cref="FetchResult.FinalUrl"/> is the location.</summary>
    Redirect,
    /// <summary>Not fetched now: the site asked us to wait (Retry-After), is paused after repeated failures, or its robots.txt is unreachable. Retry at <see cref="FetchResult.RetryAfter"/> from now.</summary>
    Deferred,
}

/// <summary>
/// The outcome of one fetch. <see cref="MediaType"/> is sniffed from the bytes for images and
/// HTML, not taken from the server's Content-Type, which is kept in <see cref="ContentTypeHeader"/>
/// (its charset matters for decoding pages).
/// </summary>
public sealed record FetchResult(
    Uri RequestedUrl,
    Uri FinalUrl,
    FetchStatus Status,
    int StatusCode,
    string? MediaType,
    byte[]? Body,
    string? Error,
    TimeSpan? RetryAfter,
    string? ETag,
    DateTimeOffset? LastModified,
    string? ContentTypeHeader = null,
    int Redirects = 0,
    TimeSpan? MaxAge = null);
