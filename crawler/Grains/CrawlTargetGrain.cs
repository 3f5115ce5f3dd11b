using Orleans.Runtime;
using System.Security.Cryptography;
using LeakHunter.Crawler.Alerts;
using LeakHunter.Crawler.Extraction;
using LeakHunter.Crawler.Fetching;
using LeakHunter.Crawler.Urls;
using LeakHunter.Index.Grains;
using LeakHunter.Index.Storage;
using Microsoft.Extensions.Logging;

namespace LeakHunter.Crawler.Grains;

/// <summary>A page waiting to be fetched and how many links away from the start it is.</summary>
public sealed record FrontierEntry(string Url, int Depth);

/// <summary>Everything a crawl needs to survive a restart: spec, frontier, seen sets and counters.</summary>
public sealed class CrawlTargetState
{
    public TargetSpec? Spec { get; set; }
    public string State { get; set; } = TargetStates.Queued;
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? FinishedAt { get; set; }
    public List<FrontierEntry> Frontier { get; set; } = [];
    /// <summary>Pages queued or fetched (normalised URLs), so no page is queued twice.</summary>
    public HashSet<string> SeenPages { get; set; } = new(StringComparer.Ordinal);
    public HashSet<string> SeenImageUrls { get; set; } = new(StringComparer.Ordinal);
    public HashSet<string> SeenImageHashes { get; set; } = new(StringComparer.Ordinal);
    public int PagesFetched { get; set; }
    public int ImagesSeen { get; set; }
    public int Matches { get; set; }
    public int Errors { get; set; }
    public string? LastError { get; set; }
}

/// <summary>
/// Drives one crawl: takes the next page from the frontier, fetches it through its site grain,
/// extracts image URLs and links, fetches each new image, has a match worker match it, and
/// records matches in the ledger (which raises the alerts). One page per timer tick; state is
/// written after every page, so a restart resumes where the crawl stopped.
/// </summary>
public sealed class CrawlTargetGrain(
    [PersistentState("target", StorageNames.State)] IPersistentState<CrawlTargetState> state,
    IBlobStore blobs,
    TimeProvider clock,
    ILogger<CrawlTargetGrain> logger) : Grain, ICrawlTargetGrain
{
    private IGrainTimer? pump;

    private CrawlTargetState S => state.State;

    public async Task StartAsync(TargetSpec spec)
    {
        if (S.Spec is not null) return;
        S.Spec = spec;
        S.CreatedAt = clock.GetUtcNow();
        S.State = TargetStates.Queued;
        IEnumerable<Uri> starts = spec.Scope == CrawlScopeKind.Urls ? spec.Urls.Prepend(spec.Url) : [spec.Url];
        foreach (var url in starts) Enqueue(url, 0);
        await state.WriteStateAsync();
        await GrainFactory.GetGrain<ITargetCatalogGrain>(spec.Workspace).AddAsync(this.GetPrimaryKeyString());
        StartPumping();
    }

    public Task ResumeAsync()
    {
        StartPumping();
        return Task.CompletedTask;
    }

    public Task<TargetProgress?> GetProgressAsync() => Task.FromResult(S.Spec is null ? null :
        new TargetProgress(this.GetPrimaryKeyString(), S.Spec, S.State, S.PagesFetched, S.ImagesSeen, S.Matches,
            S.Errors, S.LastError, S.CreatedAt, S.FinishedAt));

    private void StartPumping()
    {
        if (pump is not null || S.Spec is null || S.State is TargetStates.Done or TargetStates.Failed) return;
        // KeepAlive: the grain must not be collected as idle while its crawl is unfinished.
        pump = this.RegisterGrainTimer(CrawlNextPageAsync, new GrainTimerCreationOptions(TimeSpan.Zero, TimeSpan.FromMilliseconds(50)) { KeepAlive = true });
    }

    private async Task CrawlNextPageAsync(CancellationToken cancellationToken)
    {
        var spec = S.Spec!;
        if (S.Frontier.Count == 0 || S.PagesFetched >= spec.MaxPages)
        {
            await FinishAsync();
            return;
        }
        S.State = TargetStates.Running;
        var entry = S.Frontier[0];
        S.Frontier.RemoveAt(0);
        try
        {
            await CrawlPageAsync(new Uri(entry.Url), entry.Depth, spec);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            RecordError($"{entry.Url}: {e.Message}");
            logger.LogWarning(e, "Crawling {Url} failed", entry.Url);
        }
        await state.WriteStateAsync();
    }

    private async Task CrawlPageAsync(Uri url, int depth, TargetSpec spec)
    {
        var page = await SiteOf(url).FetchAsync(new SiteFetchRequest(url, FetchPurpose.Page, spec));
        if (page.Disallowed) return;
        if (page.Status != FetchStatus.Ok || page.Body is null)
        {
            RecordError($"{url}: {page.Error ?? page.Status.ToString()}");
            return;
        }
        S.PagesFetched++;
        if (page.MediaType is { } mediaType && mediaType.StartsWith("image/", StringComparison.Ordinal))
        {
            // A listed URL may point straight at an image.
            await ProcessImageBytesAsync(page.FinalUrl, page.FinalUrl, page.Body, pageBody: null);
            return;
        }
        var html = PageText.Decode(page.Body, page.ContentTypeHeader);
        var extracted = PageExtractor.Extract(html, page.FinalUrl);
        foreach (var imageUrl in extracted.ImageUrls)
            await ProcessImageAsync(page.FinalUrl, imageUrl, page.Body);
        if (spec.Scope == CrawlScopeKind.Urls || depth >= spec.MaxDepth) return;
        var links = extracted.NextPage is { } next ? extracted.Links.Append(next) : extracted.Links;
        foreach (var link in links)
        {
            if (CrawlScope.IsInScope(link, spec.Url, spec.Scope, spec.Urls) && !TrapGuard.LooksLikeTrap(link))
                Enqueue(link, depth + 1);
        }
    }

    private async Task ProcessImageAsync(Uri pageUrl, Uri imageUrl, byte[] pageBody)
    {
        if (!S.SeenImageUrls.Add(imageUrl.AbsoluteUri)) return;
        var image = await SiteOf(imageUrl).FetchAsync(new SiteFetchRequest(imageUrl, FetchPurpose.Image, null));
        if (image.Disallowed) return;
        if (image.Status != FetchStatus.Ok || image.Body is null)
        {
            RecordError($"{imageUrl}: {image.Error ?? image.Status.ToString()}");
            return;
        }
        await ProcessImageBytesAsync(pageUrl, imageUrl, image.Body, pageBody);
    }

    private async Task ProcessImageBytesAsync(Uri pageUrl, Uri imageUrl, byte[] bytes, byte[]? pageBody)
    {
        var sha256 = Convert.ToHexStringLower(SHA256.HashData(bytes));
        if (!S.SeenImageHashes.Add(sha256)) return;
        S.ImagesSeen++;
        var spec = S.Spec!;
        var outcome = await GrainFactory.GetGrain<IImageMatchGrain>(0).MatchAsync(bytes, spec.Workspace);
        if (outcome.Refused is { } reason)
        {
            RecordError($"{imageUrl}: {reason}");
            return;
        }
        if (outcome.Match is not { } match) return;
        // Keep the found copy: the dashboard shows it beside the original, and it is evidence.
        await blobs.PutAsync(FoundImages.BlobKey(sha256), bytes);
        string? pageSha256 = null;
        if (pageBody is not null)
        {
            // The page as fetched goes into the evidence bundle.
            pageSha256 = Convert.ToHexStringLower(SHA256.HashData(pageBody));
            await blobs.PutAsync(FoundImages.PageBlobKey(pageSha256), pageBody);
        }
        var isNew = await GrainFactory.GetGrain<IMatchLedgerGrain>(spec.Workspace).RecordAsync(new MatchCandidateRecord(
            match, this.GetPrimaryKeyString(), pageUrl.AbsoluteUri, imageUrl.AbsoluteUri, clock.GetUtcNow(), outcome.Attribution, pageSha256));
        if (isNew) S.Matches++;
    }

    private void Enqueue(Uri url, int depth)
    {
        if (S.SeenPages.Add(url.AbsoluteUri)) S.Frontier.Add(new FrontierEntry(url.AbsoluteUri, depth));
    }

    private void RecordError(string message)
    {
        S.Errors++;
        S.LastError = message.Length > 500 ? message[..500] : message;
    }

    private async Task FinishAsync()
    {
        // A crawl that fetched nothing and only failed is "failed"; otherwise it is done.
        S.State = S.PagesFetched == 0 && S.Errors > 0 ? TargetStates.Failed : TargetStates.Done;
        S.FinishedAt = clock.GetUtcNow();
        await state.WriteStateAsync();
        pump?.Dispose();
        pump = null;
        logger.LogInformation("Target {Id} {State}: {Pages} pages, {Images} images, {Matches} matches",
            this.GetPrimaryKeyString(), S.State, S.PagesFetched, S.ImagesSeen, S.Matches);
    }

    private ISiteGrain SiteOf(Uri url) => GrainFactory.GetGrain<ISiteGrain>(SiteKeys.Of(url));
}

/// <summary>The list of a workspace's targets.</summary>
public sealed class TargetCatalogGrain(
    [PersistentState("targets", StorageNames.State)] IPersistentState<List<string>> state) : Grain, ITargetCatalogGrain
{
    public async Task AddAsync(string targetId)
    {
        if (state.State.Contains(targetId)) return;
        state.State.Add(targetId);
        await state.WriteStateAsync();
    }

    public Task<IReadOnlyList<string>> ListAsync() => Task.FromResult<IReadOnlyList<string>>(state.State.ToList());
}
