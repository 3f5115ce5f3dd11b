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
    string? ContentTypeHeader = null);
