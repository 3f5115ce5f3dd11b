using System.Security.Cryptography;
using LeakHunter.Crawler.Alerts;
using LeakHunter.Crawler.Extraction;
using LeakHunter.Crawler.Fetching;
using LeakHunter.Crawler.Robots;
using LeakHunter.Crawler.Urls;
using LeakHunter.Index.Grains;
using LeakHunter.Index.Storage;
using Microsoft.Extensions.Options;
using Orleans.Placement;
using Orleans.Runtime;

namespace LeakHunter.Crawler.Grains;

/// <summary>
/// Runs one <see cref="CrawlJob"/>: fetches the page through its site grain (following redirects
/// from site to site, each hop checked against scope and that site's robots.txt), extracts images
/// and links, claims the images from the target (so two pages showing one picture fetch it once),
/// fetches them — conditionally on a revisit — matches new content on this silo and records
/// matches in the ledger, which raises each leak's alert once. The outcome goes back to the target,
/// which alone writes durable state; a worker that dies with its silo just makes the target run the
/// job again.
/// </summary>
[RandomPlacement]
public sealed class CrawlWorkerGrain(
    IBlobStore blobs,
    ILocalSiloDetails silo,
    SiloWorkCounters counters,
    IOptions<CrawlerOptions> options,
    TimeProvider clock) : Grain, ICrawlWorkerGrain
{
    private string SiloName => silo.SiloAddress.Endpoint.ToString();

    public async Task<CrawlJobOutcome> RunAsync(CrawlJob job)
    {
        try
        {
            return job.Kind == JobKind.Sitemaps ? await ReadSitemapsAsync(job) : await CrawlPageAsync(job);
        }
        finally
        {
            DeactivateOnIdle(); // one activation per job: the next job is placed afresh
        }
    }

    private async Task<CrawlJobOutcome> CrawlPageAsync(CrawlJob job)
    {
        var spec = job.Spec;
        var page = await FollowAsync(job.Url, FetchPurpose.Page, spec, null, null);
        switch (page)
        {
            case { Disallowed: true }:
                return Outcome(JobResult.Disallowed, false);
            case { Status: FetchStatus.Deferred }:
                return Outcome(JobResult.Retry, false, retryAt: page.RetryAt, errors: [$"{job.Url}: {page.Error}"]);
            case { Status: FetchStatus.NetworkError or FetchStatus.Timeout } or { Status: FetchStatus.HttpError, StatusCode: >= 500 }:
                return Outcome(JobResult.Retry, false, retryAt: clock.GetUtcNow() + TimeSpan.FromSeconds(5), errors: [$"{job.Url}: {page.Error ?? page.Status.ToString()}"]);
            case { Status: not FetchStatus.Ok } or { Body: null }:
                return Outcome(JobResult.Failed, false, errors: [$"{job.Url}: {page.Error ?? page.Status.ToString()}"]);
        }
        counters.PageFetched();

        var images = new List<ImageDone>();
        var matchKeys = new List<string>();
        var errors = new List<string>();
        var links = new List<FoundLink>();
        var fetchedImages = 0;
        var matched = 0;
        DateTimeOffset? retryAt = null;

        if (page.MediaType is { } mediaType && mediaType.StartsWith("image/", StringComparison.Ordinal))
        {
            // A listed URL may point straight at an image.
            var claims = await Target(job).ClaimImagesAsync(job.JobId, [page.FinalUrl.AbsoluteUri]);
            if (claims.Count == 1)
            {
                fetchedImages++;
                counters.ImageFetched();
                var candidates = new List<(ImageDone, byte[])> { (new ImageDone(page.FinalUrl.AbsoluteUri, page.ETag, page.LastModified, Sha(page.Body!), false), page.Body!) };
                matched += await MatchAsync(job, page.FinalUrl, pageBody: null, candidates, images, matchKeys, errors);
            }
            return new(JobResult.Done, SiloName, true, links, images, matchKeys, fetchedImages, matched, errors, null);
        }

        var html = PageText.Decode(page.Body!, page.ContentTypeHeader);
        var extracted = PageExtractor.Extract(html, page.FinalUrl);

        // Links: attachment pages (a thumbnail's target) are followed at the same depth, even in a
        // list-of-URLs target, but not from an attachment page; rel=next continues the same listing.
        if (!job.Attachment)
            foreach (var attachment in extracted.AttachmentPages)
                if (SiteKeys.Of(attachment) == SiteKeys.Of(page.FinalUrl) || CrawlScope.IsInScope(attachment, spec.Url, spec.Scope, spec.Urls))
                    AddLink(links, attachment, job.Depth, true, spec);
        if (extracted.NextPage is { } next && spec.Scope != CrawlScopeKind.Urls) AddLink(links, next, job.Depth, false, spec);
        if (spec.Scope != CrawlScopeKind.Urls && job.Depth < spec.MaxDepth)
            foreach (var link in extracted.Links) AddLink(links, link, job.Depth + 1, false, spec);

        var claimed = extracted.ImageUrls.Count == 0 ? [] : await Target(job).ClaimImagesAsync(job.JobId, extracted.ImageUrls.Select(u => u.AbsoluteUri).ToList());
        var fetched = new List<(ImageDone, byte[])>();
        foreach (var claim in claimed)
        {
            var url = new Uri(claim.Url);
            var image = await FollowAsync(url, FetchPurpose.Image, null, claim.ETag, claim.LastModified);
            if (image.Disallowed) { images.Add(new ImageDone(claim.Url, null, null, null, false)); continue; }
            switch (image.Status)
            {
                case FetchStatus.NotModified:
                    images.Add(new ImageDone(claim.Url, image.ETag ?? claim.ETag, image.LastModified ?? claim.LastModified, null, Unchanged: true));
                    continue;
                case FetchStatus.Deferred:
                case FetchStatus.NetworkError or FetchStatus.Timeout:
                case FetchStatus.HttpError when image.StatusCode >= 500:
                    // Not had now: the page runs again later and claims the images it still lacks.
                    retryAt = Max(retryAt, image.RetryAt ?? clock.GetUtcNow() + TimeSpan.FromSeconds(5));
                    errors.Add($"{claim.Url}: {image.Error ?? image.Status.ToString()}");
                    continue;
                case FetchStatus.Ok when image.Body is not null:
                    fetchedImages++;
                    counters.ImageFetched();
                    fetched.Add((new ImageDone(claim.Url, image.ETag, image.LastModified, Sha(image.Body), false), image.Body));
                    continue;
                default:
                    images.Add(new ImageDone(claim.Url, null, null, null, false));
                    errors.Add($"{claim.Url}: {image.Error ?? image.Status.ToString()}");
                    continue;
            }
        }
        matched += await MatchAsync(job, page.FinalUrl, page.Body, fetched, images, matchKeys, errors);
        return new(retryAt is null ? JobResult.Done : JobResult.Retry, SiloName, true, links, images, matchKeys, fetchedImages, matched, errors, retryAt);
    }

    /// <summary>Matches the images whose content the target has not seen before; returns how many were matched.</summary>
    private async Task<int> MatchAsync(CrawlJob job, Uri pageUrl, byte[]? pageBody, List<(ImageDone Image, byte[] Bytes)> fetched,
        List<ImageDone> images, List<string> matchKeys, List<string> errors)
    {
        if (fetched.Count == 0) return 0;
        var fresh = (await Target(job).ClaimHashesAsync(job.JobId, fetched.Select(f => f.Image.Sha256!).Distinct().ToList())).ToHashSet(StringComparer.Ordinal);
        var matched = 0;
        foreach (var (image, bytes) in fetched)
        {
            if (!fresh.Remove(image.Sha256!))
            {
                images.Add(image with { Unchanged = true }); // same bytes as an image seen before: already matched
                continue;
            }
            matched++;
            counters.ImageMatched();
            var outcome = await GrainFactory.GetGrain<IImageMatchGrain>(0).MatchAsync(bytes, job.Spec.Workspace);
            images.Add(image);
            if (outcome.Refused is { } reason) { errors.Add($"{image.Url}: {reason}"); continue; }
            if (outcome.Match is not { } match) continue;
            // Keep the found copy: the dashboard shows it beside the original, and it is evidence.
            await blobs.PutAsync(FoundImages.BlobKey(image.Sha256!), bytes);
            // So is the page as fetched (the evidence bundle carries it).
            var pageSha256 = pageBody is null ? null : Sha(pageBody);
            if (pageSha256 is not null) await blobs.PutAsync(FoundImages.PageBlobKey(pageSha256), pageBody!);
            // The ledger alerts once per original and image URL, however often a job is repeated.
            await GrainFactory.GetGrain<IMatchLedgerGrain>(job.Spec.Workspace).RecordAsync(new MatchCandidateRecord(
                match, job.TargetId, pageUrl.AbsoluteUri, image.Url, clock.GetUtcNow(), outcome.Attribution, pageSha256));
            matchKeys.Add($"{match.OriginalId}|{image.Url}");
        }
        return matched;
    }

    /// <summary>Reads the sitemaps robots.txt names (indexes followed), and returns their pages as links at depth 1.</summary>
    private async Task<CrawlJobOutcome> ReadSitemapsAsync(CrawlJob job)
    {
        var spec = job.Spec;
        var links = new List<FoundLink>();
        var errors = new List<string>();
        if (spec.Scope == CrawlScopeKind.Urls || spec.MaxDepth < 1) return Outcome(JobResult.Done, false);
        var queue = new Queue<Uri>(await GrainFactory.GetGrain<ISiteGrain>(SiteKeys.Of(job.Url)).GetSitemapsAsync());
        var read = new HashSet<string>(StringComparer.Ordinal);
        var urls = 0;
        while (queue.Count > 0 && read.Count < options.Value.MaxSitemapsPerSite && urls < options.Value.MaxSitemapUrlsPerSite)
        {
            var sitemapUrl = queue.Dequeue();
            if (!read.Add(sitemapUrl.AbsoluteUri)) continue;
            var response = await FollowAsync(sitemapUrl, FetchPurpose.Sitemap, null, null, null);
            if (response.Status != FetchStatus.Ok || response.Body is null)
            {
                if (!response.Disallowed) errors.Add($"{sitemapUrl}: {response.Error ?? response.Status.ToString()}");
                continue;
            }
            var document = SitemapParser.Read(response.Body);
            foreach (var url in document.Urls)
            {
                if (document.IsIndex) queue.Enqueue(url);
                else if (UrlNormalizer.Normalize(url.AbsoluteUri) is { } page && AddLink(links, page, 1, false, spec)) urls++;
            }
        }
        return new(JobResult.Done, SiloName, false, links, [], [], 0, 0, errors, null);
    }

    private static bool AddLink(List<FoundLink> links, Uri url, int depth, bool attachment, TargetSpec spec)
    {
        if (TrapGuard.LooksLikeTrap(url)) return false;
        if (!attachment && !CrawlScope.IsInScope(url, spec.Url, spec.Scope, spec.Urls)) return false;
        links.Add(new FoundLink(url.AbsoluteUri, depth, attachment));
        return true;
    }

    /// <summary>Fetches through the URL's site grain, continuing a redirect to another site through that site's grain.</summary>
    private async Task<SiteFetchResponse> FollowAsync(Uri url, FetchPurpose purpose, TargetSpec? scope, string? etag, DateTimeOffset? lastModified)
    {
        var redirects = 0;
        var current = url;
        while (true)
        {
            var response = await GrainFactory.GetGrain<ISiteGrain>(SiteKeys.Of(current))
                .FetchAsync(new SiteFetchRequest(current, purpose, scope, current == url ? etag : null, current == url ? lastModified : null, redirects));
            if (response.Status != FetchStatus.Redirect) return response;
            redirects = response.Redirects;
            current = response.FinalUrl;
        }
    }

    private CrawlJobOutcome Outcome(JobResult result, bool fetched, DateTimeOffset? retryAt = null, IReadOnlyList<string>? errors = null) =>
        new(result, SiloName, fetched, [], [], [], 0, 0, errors ?? [], retryAt);

    private ICrawlTargetGrain Target(CrawlJob job) => GrainFactory.GetGrain<ICrawlTargetGrain>(job.TargetId);

    private static string Sha(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    private static DateTimeOffset? Max(DateTimeOffset? a, DateTimeOffset? b) => a is null ? b : b is null ? a : a > b ? a : b;
}
