using System.Globalization;
using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using LeakHunter.Crawler.Urls;
using LeakHunter.Index.Storage;

namespace LeakHunter.Crawler.Fetching;

/// <summary>What to do with one redirect.</summary>
public enum RedirectDecision { Follow, Refuse, HandOff }

/// <summary>
/// Fetches one URL the way a careful crawler must: redirects followed by hand (each one checked
/// by the caller for scope and robots, at most <see cref="CrawlerOptions.MaxRedirects"/>),
/// connect and total timeouts, a byte cap enforced while reading (compressed bodies are
/// decompressed under the same cap), conditional requests, and the SSRF guard at connect time.
/// One instance is shared per process: it owns the connection pool.
/// </summary>
public sealed class WebFetcher : IDisposable
{
    private readonly CrawlerOptions options;
    private readonly HttpClient http;

    public WebFetcher(CrawlerOptions options)
    {
        this.options = options;
        var handler = new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None, // decompressed by hand, under the cap
            ConnectTimeout = options.ConnectTimeout,
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            UseCookies = false,
            ConnectCallback = ConnectAsync,
        };
        http = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
    }

    public Task<FetchResult> FetchAsync(Uri url, long maxBytes, Func<Uri, bool>? allowRedirect,
        string? etag, DateTimeOffset? lastModified, CancellationToken cancellationToken) =>
        FetchAsync(url, maxBytes, allowRedirect is null ? null : next => allowRedirect(next) ? RedirectDecision.Follow : RedirectDecision.Refuse,
            etag, lastModified, 0, cancellationToken);

    /// <summary>
    /// Fetches <paramref name="url"/>. Each redirect is put to <paramref name="redirectPolicy"/>: followed here,
    /// refused (<see cref="FetchStatus.OutOfScope"/>) or handed back to the caller (<see cref="FetchStatus.Redirect"/>,
    /// e.g. when it leads to another host whose politeness another grain owns). <paramref name="redirectsSoFar"/>
    /// counts hops already taken by earlier calls, so a chain across hosts is capped as a whole.
    /// </summary>
    public async Task<FetchResult> FetchAsync(Uri url, long maxBytes, Func<Uri, RedirectDecision>? redirectPolicy,
        string? etag, DateTimeOffset? lastModified, int redirectsSoFar, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.RequestTimeout);
        var current = url;
        try
        {
            for (var redirects = redirectsSoFar; ; redirects++)
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, current);
                request.Headers.UserAgent.ParseAdd(options.UserAgent);
                request.Headers.AcceptEncoding.ParseAdd("gzip, deflate, br");
                if (current == url && etag is not null) request.Headers.TryAddWithoutValidation("If-None-Match", etag);
                if (current == url && lastModified is { } since) request.Headers.IfModifiedSince = since;

                using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
                var status = (int)response.StatusCode;
                if (status is 301 or 302 or 303 or 307 or 308 && response.Headers.Location is { } location)
                {
                    var next = UrlNormalizer.Normalize(location.OriginalString, current);
                    if (next is null) return Failure(url, current, FetchStatus.HttpError, status, $"redirect to an unusable location '{location}'");
                    if (redirects + 1 > options.MaxRedirects)
                        return Failure(url, current, FetchStatus.TooManyRedirects, status, $"more than {options.MaxRedirects} redirects");
                    switch (redirectPolicy?.Invoke(next) ?? RedirectDecision.Follow)
                    {
                        case RedirectDecision.Refuse:
                            return Failure(url, next, FetchStatus.OutOfScope, status, $"redirect to {next} is out of scope or disallowed");
                        case RedirectDecision.HandOff:
                            return Failure(url, next, FetchStatus.Redirect, status, null) with { Redirects = redirects + 1 };
                    }
                    current = next;
                    continue;
                }
                var retryAfter = RetryAfterOf(response);
                var newEtag = response.Headers.ETag?.ToString();
                var newLastModified = response.Content.Headers.LastModified;
                var contentType = response.Content.Headers.ContentType?.ToString();
                var maxAge = response.Headers.CacheControl?.MaxAge;
                if (response.StatusCode == HttpStatusCode.NotModified)
                    return new(url, current, FetchStatus.NotModified, status, null, null, null, retryAfter, newEtag ?? etag, newLastModified ?? lastModified, contentType);
                if (!response.IsSuccessStatusCode)
                    return new(url, current, FetchStatus.HttpError, status, null, null, $"HTTP {status}", retryAfter, null, null, contentType);
                if (response.Content.Headers.ContentLength > maxBytes)
                    return Failure(url, current, FetchStatus.TooLarge, status, $"larger than {maxBytes} bytes");

                var body = await ReadCappedAsync(response, maxBytes, timeout.Token);
                if (body is null) return Failure(url, current, FetchStatus.TooLarge, status, $"larger than {maxBytes} bytes");
                return new(url, current, FetchStatus.Ok, status, Sniff(body, response.Content.Headers.ContentType), body, null,
                    retryAfter, newEtag, newLastModified, contentType, redirects, maxAge);
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return Failure(url, current, FetchStatus.Timeout, 0, $"no complete answer within {options.RequestTimeout.TotalSeconds:0.#} s");
        }
        catch (HttpRequestException e) when (e.InnerException is ForbiddenAddressException forbidden)
        {
            return Failure(url, current, FetchStatus.Refused, 0, forbidden.Message);
        }
        catch (HttpRequestException e)
        {
            return Failure(url, current, FetchStatus.NetworkError, 0, e.Message);
        }
        catch (InvalidDataException e)
        {
            return Failure(url, current, FetchStatus.TooLarge, 0, e.Message); // decompression bomb or broken encoding
        }
        catch (IOException e)
        {
            return Failure(url, current, FetchStatus.NetworkError, 0, e.Message);
        }
    }

    private static FetchResult Failure(Uri requested, Uri final, FetchStatus status, int code, string? error) =>
        new(requested, final, status, code, null, null, error, null, null, null);

    /// <summary>Reads the body, decompressing it if needed; null if it exceeds the cap.</summary>
    private static async Task<byte[]?> ReadCappedAsync(HttpResponseMessage response, long maxBytes, CancellationToken cancellationToken)
    {
        Stream stream = await response.Content.ReadAsStreamAsync(cancellationToken);
        foreach (var encoding in response.Content.Headers.ContentEncoding.Reverse())
        {
            stream = encoding.ToLowerInvariant() switch
            {
                "gzip" or "x-gzip" => new GZipStream(stream, CompressionMode.Decompress),
                "deflate" => new ZLibStream(stream, CompressionMode.Decompress),
                "br" => new BrotliStream(stream, CompressionMode.Decompress),
                "identity" => stream,
                _ => throw new InvalidDataException($"unsupported content encoding '{encoding}'"),
            };
        }
        await using (stream)
        {
            using var buffer = new MemoryStream();
            var chunk = new byte[81920];
            int read;
            while ((read = await stream.ReadAsync(chunk, cancellationToken)) > 0)
            {
                if (buffer.Length + read > maxBytes) return null;
                buffer.Write(chunk, 0, read);
            }
            return buffer.ToArray();
        }
    }

    /// <summary>Images are recognised by their bytes, pages by their look; the header is only a last resort.</summary>
    private static string? Sniff(byte[] body, MediaTypeHeaderValue? header)
    {
        if (MediaTypeSniffer.SniffImage(body) is { } image) return image;
        var head = System.Text.Encoding.UTF8.GetString(body, 0, Math.Min(body.Length, 512)).TrimStart('\uFEFF', ' ', '\t', '\r', '\n');
        if (head.StartsWith("<!doctype html", StringComparison.OrdinalIgnoreCase) || head.StartsWith("<html", StringComparison.OrdinalIgnoreCase)
            || head.StartsWith("<head", StringComparison.OrdinalIgnoreCase) || head.StartsWith("<body", StringComparison.OrdinalIgnoreCase))
            return "text/html";
        var declared = header?.MediaType;
        // A server may not make us treat bytes as an image that do not look like one.
        return declared is not null && declared.StartsWith("image/", StringComparison.OrdinalIgnoreCase) ? "application/octet-stream" : declared;
    }

    private static TimeSpan? RetryAfterOf(HttpResponseMessage response)
    {
        var retry = response.Headers.RetryAfter;
        if (retry?.Delta is { } delta) return delta;
        if (retry?.Date is { } date) return date - DateTimeOffset.UtcNow is var wait && wait > TimeSpan.Zero ? wait : TimeSpan.Zero;
        return null;
    }

    /// <summary>Resolves the host and connects to its first allowed address; refuses forbidden ones.</summary>
    private async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        var host = context.DnsEndPoint.Host;
        var addresses = IPAddress.TryParse(host.Trim('[', ']'), out var literal)
            ? [literal]
            : await Dns.GetHostAddressesAsync(host, cancellationToken);
        var allowed = options.AllowPrivateAddresses ? addresses : addresses.Where(a => !SsrfGuard.IsForbidden(a)).ToArray();
        if (allowed.Length == 0) throw new ForbiddenAddressException(host);

        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(allowed, context.DnsEndPoint.Port, cancellationToken);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    public void Dispose() => http.Dispose();
}
