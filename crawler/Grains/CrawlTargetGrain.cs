using LeakHunter.Crawler.Fetching;
using LeakHunter.Index.Grains;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Runtime;

namespace LeakHunter.Crawler.Grains;

/// <summary>
/// A job waiting to run: a page (or a site's sitemaps), how many links away from the start it is,
/// whether it was reached from a thumbnail, how often it was tried, and when it may run next.
/// </summary>
public sealed record FrontierEntry(string Url, int Depth, JobKind Kind = JobKind.Page, bool Attachment = false,
    int Attempts = 0, DateTimeOffset? NotBefore = null);

/// <summary>What the target remembers of an image between rounds: validators for conditional requests, and its content hash.</summary>
public sealed class ImageRecord
{
    public string? ETag { get; set; }
    public DateTimeOffset? LastModified { get; set; }
    public string? Sha256 { get; set; }
}

/// <summary>Everything a crawl needs to survive a crash or a restart: spec, frontier, jobs in flight, seen sets and counters.</summary>
public sealed class CrawlTargetState
{
    public TargetSpec? Spec { get; set; }
    public string State { get; set; } = TargetStates.Queued;
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? FinishedAt { get; set; }
    public int Round { get; set; } = 1;
    public DateTimeOffset? NextRevisitAt { get; set; }
    public List<FrontierEntry> Frontier { get; set; } = [];
    /// <summary>Jobs handed to workers and not yet committed: run again if the target restarts before their outcome.</summary>
    public List<FrontierEntry> InFlight { get; set; } = [];
    /// <summary>Pages queued this round (normalised URLs), so no page is queued twice.</summary>
    public HashSet<string> SeenPages { get; set; } = new(StringComparer.Ordinal);
    /// <summary>Pages fetched this round: the page budget, and a page counted once however often it ran.</summary>
    public HashSet<string> FetchedPages { get; set; } = new(StringComparer.Ordinal);
    /// <summary>Sites whose sitemaps were queued this round.</summary>
    public HashSet<string> SitesSeen { get; set; } = new(StringComparer.Ordinal);
    /// <summary>Image URLs dealt with this round.</summary>
    public HashSet<string> ImagesThisRound { get; set; } = new(StringComparer.Ordinal);
    public Dictionary<string, ImageRecord> Images { get; set; } = new(StringComparer.Ordinal);
    public HashSet<string> SeenImageHashes { get; set; } = new(StringComparer.Ordinal);
    /// <summary>"originalId|imageUrl" of each leak this target found (the ledger's dedupe key).</summary>
    public HashSet<string> MatchKeys { get; set; } = new(StringComparer.Ordinal);
    public int PagesFetched { get; set; }
    public int ImagesSeen { get; set; }
    public int ImagesFetched { get; set; }
    public int ImagesUnchanged { get; set; }
    public int Matches { get; set; }
    public int Errors { get; set; }
    public string? LastError { get; set; }
    public Dictionary<string, int> PagesBySilo { get; set; } = new(StringComparer.Ordinal);
    public Dictionary<string, int> ImagesBySilo { get; set; } = new(StringComparer.Ordinal);
}

/// <summary>
/// Drives one crawl. Owns the frontier and the seen sets, and hands jobs (a page, or a site's
/// sitemaps) to worker grains that Orleans spreads over every silo — up to
/// <see cref="CrawlerOptions.MaxPagesInFlightPerTarget"/> at once, a few per host (the site grains
/// keep each host's pace). Only this grain writes the crawl's state: a job counts once its outcome
/// is committed here, so a job lost with a dead silo simply runs again. A reminder wakes the target
/// on a surviving silo if its own silo dies, and starts each revisit.
/// </summary>
public sealed class CrawlTargetGrain(
    [PersistentState("target", StorageNames.State)] IPersistentState<CrawlTargetState> state,
    IOptions<CrawlerOptions> options,
    IOptions<Orleans.Hosting.ReminderOptions> reminderOptions,
    ILocalSiloDetails silo,
    TimeProvider clock,
    ILogger<CrawlTargetGrain> logger) : Grain, ICrawlTargetGrain, IRemindable
{
    public const string ReminderName = "crawl";
    private static readonly TimeSpan WriteEvery = TimeSpan.FromMilliseconds(200);
    private const int MaxFrontierScan = 2_000;

    private readonly Dictionary<string, FrontierEntry> running = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> imageClaims = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> hashClaims = new(StringComparer.Ordinal);
    private IGrainTimer? pump;
    private bool dirty;
    private DateTimeOffset lastWrite;
    private int jobSequence;

    private CrawlTargetState S => state.State;
    private CrawlerOptions Options => options.Value;
    private string Id => this.GetPrimaryKeyString();

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (S.InFlight.Count > 0)
        {
            // Jobs that were running when the previous activation died: run them again.
            S.Frontier.InsertRange(0, S.InFlight);
            S.InFlight.Clear();
            dirty = true;
        }
        if (S.Spec is not null && S.State is TargetStates.Queued or TargetStates.Running)
        {
            await EnsureReminderAsync();
            StartPumping();
        }
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        if (dirty) await WriteAsync();
    }

    public async Task StartAsync(TargetSpec spec)
    {
        if (S.Spec is not null) return;
        S.Spec = spec;
        S.CreatedAt = clock.GetUtcNow();
        S.State = TargetStates.Queued;
        EnqueueStarts(spec);
        await WriteAsync();
        await GrainFactory.GetGrain<ITargetCatalogGrain>(spec.Workspace).AddAsync(Id);
        await EnsureReminderAsync();
        StartPumping();
    }

    public async Task ResumeAsync()
    {
        if (S.Spec is null) return;
        if (S.State is TargetStates.Queued or TargetStates.Running || S.NextRevisitAt is not null) await EnsureReminderAsync();
        StartPumping();
    }

    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        if (S.Spec is null)
        {
            await UnregisterReminderAsync();
            return;
        }
        if (S.State is TargetStates.Done or TargetStates.Failed)
        {
            if (S.NextRevisitAt is null) await UnregisterReminderAsync();
            else if (clock.GetUtcNow() >= S.NextRevisitAt) await StartRoundAsync();
        }
        StartPumping();
    }

    public Task<TargetProgress?> GetProgressAsync() => Task.FromResult(S.Spec is null ? null :
        new TargetProgress(Id, S.Spec, S.State, S.PagesFetched, S.ImagesSeen, S.Matches, S.Errors, S.LastError, S.CreatedAt, S.FinishedAt,
            S.Round, S.NextRevisitAt, S.ImagesFetched, S.ImagesUnchanged,
            new Dictionary<string, int>(S.PagesBySilo), new Dictionary<string, int>(S.ImagesBySilo),
            running.Count, S.Frontier.Count, silo.SiloAddress.Endpoint.ToString()));

    public Task<IReadOnlyList<ImageClaim>> ClaimImagesAsync(string jobId, IReadOnlyList<string> imageUrls)
    {
        var claims = new List<ImageClaim>();
        if (!running.ContainsKey(jobId)) return Task.FromResult<IReadOnlyList<ImageClaim>>(claims); // a job of an earlier activation
        foreach (var url in imageUrls.Distinct(StringComparer.Ordinal))
        {
            if (S.ImagesThisRound.Contains(url) || !imageClaims.TryAdd(url, jobId)) continue;
            S.Images.TryGetValue(url, out var known);
            claims.Add(new ImageClaim(url, known?.ETag, known?.LastModified));
        }
        return Task.FromResult<IReadOnlyList<ImageClaim>>(claims);
    }

    public Task<IReadOnlyList<string>> ClaimHashesAsync(string jobId, IReadOnlyList<string> sha256s)
    {
        var fresh = new List<string>();
        if (!running.ContainsKey(jobId)) return Task.FromResult<IReadOnlyList<string>>(fresh);
        foreach (var sha in sha256s.Distinct(StringComparer.Ordinal))
            if (!S.SeenImageHashes.Contains(sha) && hashClaims.TryAdd(sha, jobId)) fresh.Add(sha);
        return Task.FromResult<IReadOnlyList<string>>(fresh);
    }

    private void StartPumping()
    {
        if (pump is not null || S.Spec is null || S.State is TargetStates.Done or TargetStates.Failed) return;
        // KeepAlive: the grain must not be collected as idle while its crawl is unfinished.
        pump = this.RegisterGrainTimer(PumpAsync, new GrainTimerCreationOptions(TimeSpan.Zero, TimeSpan.FromMilliseconds(50)) { KeepAlive = true });
    }

    /// <summary>One tick: hand out jobs while there is room, finish when nothing is left, write state now and then.</summary>
    private async Task PumpAsync(CancellationToken cancellationToken)
    {
        if (S.State is TargetStates.Done or TargetStates.Failed) return;
        var spec = S.Spec!;
        if (S.State == TargetStates.Queued)
        {
            S.State = TargetStates.Running;
            dirty = true;
        }
        var pageBudget = spec.MaxPages - S.FetchedPages.Count - running.Values.Count(e => e.Kind == JobKind.Page);
        Dispatch(ref pageBudget);
        if (running.Count == 0 && (S.Frontier.Count == 0 || pageBudget <= 0 && S.Frontier.All(e => e.Kind == JobKind.Page)))
        {
            await FinishAsync();
            return;
        }
        if (dirty && clock.GetUtcNow() - lastWrite >= WriteEvery) await WriteAsync();
    }

    private void Dispatch(ref int pageBudget)
    {
        var now = clock.GetUtcNow();
        var perHost = running.Values.GroupBy(e => SiteKeys.Of(new Uri(e.Url))).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        for (var i = 0; i < S.Frontier.Count && i < MaxFrontierScan && running.Count < Options.MaxPagesInFlightPerTarget;)
        {
            var entry = S.Frontier[i];
            var site = SiteKeys.Of(new Uri(entry.Url));
            if (entry.NotBefore > now || entry.Kind == JobKind.Page && pageBudget <= 0
                || perHost.GetValueOrDefault(site) >= Options.MaxPagesInFlightPerHost)
            {
                i++;
                continue;
            }
            S.Frontier.RemoveAt(i);
            perHost[site] = perHost.GetValueOrDefault(site) + 1;
            if (entry.Kind == JobKind.Page) pageBudget--;
            _ = RunJobAsync(entry);
        }
    }

    /// <summary>Runs one job on a worker and commits its outcome. Continuations run on this activation, one at a time.</summary>
    private async Task RunJobAsync(FrontierEntry entry)
    {
        var jobId = $"{Id}/{S.Round}/{++jobSequence}/{Guid.NewGuid():N}";
        running[jobId] = entry;
        S.InFlight.Add(entry);
        dirty = true;
        CrawlJobOutcome? outcome = null;
        Exception? failure = null;
        try
        {
            outcome = await GrainFactory.GetGrain<ICrawlWorkerGrain>(jobId)
                .RunAsync(new CrawlJob(Id, jobId, entry.Kind, new Uri(entry.Url), entry.Depth, S.Spec!, entry.Attachment));
        }
        catch (Exception e)
        {
            failure = e; // the worker's silo died, or the call timed out: the job runs again
        }
        running.Remove(jobId);
        S.InFlight.Remove(entry);
        try
        {
            if (outcome is null) Retry(entry, clock.GetUtcNow() + TimeSpan.FromSeconds(1), $"{entry.Url}: {failure?.GetType().Name}: {failure?.Message}");
            else Commit(entry, outcome);
        }
        finally
        {
            foreach (var url in imageClaims.Where(c => c.Value == jobId).Select(c => c.Key).ToList()) imageClaims.Remove(url);
            foreach (var sha in hashClaims.Where(c => c.Value == jobId).Select(c => c.Key).ToList()) hashClaims.Remove(sha);
            dirty = true;
        }
    }

    private void Commit(FrontierEntry entry, CrawlJobOutcome outcome)
    {
        switch (outcome.Result)
        {
            case JobResult.Disallowed:
                return;
            case JobResult.Failed:
                foreach (var error in outcome.Errors) RecordError(error);
                return;
        }
        if (outcome.PageFetched && S.FetchedPages.Add(entry.Url))
        {
            S.PagesFetched++;
            S.PagesBySilo[outcome.Silo] = S.PagesBySilo.GetValueOrDefault(outcome.Silo) + 1;
        }
        if (outcome.ImagesFetched > 0)
        {
            S.ImagesFetched += outcome.ImagesFetched;
            S.ImagesBySilo[outcome.Silo] = S.ImagesBySilo.GetValueOrDefault(outcome.Silo) + outcome.ImagesFetched;
        }
        foreach (var link in outcome.Links) Enqueue(link.Url, link.Depth, link.Attachment);
        foreach (var image in outcome.Images)
        {
            S.ImagesThisRound.Add(image.Url);
            var record = S.Images.TryGetValue(image.Url, out var known) ? known : S.Images[image.Url] = new ImageRecord();
            record.ETag = image.ETag;
            record.LastModified = image.LastModified;
            if (image.Sha256 is not null) record.Sha256 = image.Sha256;
            if (image.Unchanged) S.ImagesUnchanged++;
            if (image.Sha256 is not null && S.SeenImageHashes.Add(image.Sha256)) S.ImagesSeen++;
        }
        foreach (var key in outcome.MatchKeys)
            if (S.MatchKeys.Add(key)) S.Matches++;
        if (outcome.Result == JobResult.Retry)
            Retry(entry, outcome.RetryAt ?? clock.GetUtcNow() + TimeSpan.FromSeconds(5), string.Join("; ", outcome.Errors));
        else
            foreach (var error in outcome.Errors) RecordError(error);
    }

    /// <summary>Puts a job back, to run at <paramref name="at"/>, unless it has been tried too often.</summary>
    private void Retry(FrontierEntry entry, DateTimeOffset at, string error)
    {
        var attempts = entry.Attempts + 1;
        if (attempts >= Options.MaxAttemptsPerPage)
        {
            RecordError($"gave up after {attempts} attempts: {error}");
            return;
        }
        logger.LogDebug("Job {Url} of target {Id} runs again at {At}: {Error}", entry.Url, Id, at, error);
        S.Frontier.Add(entry with { Attempts = attempts, NotBefore = at });
    }

    private void EnqueueStarts(TargetSpec spec)
    {
        IEnumerable<Uri> starts = spec.Scope == Urls.CrawlScopeKind.Urls ? spec.Urls.Prepend(spec.Url) : [spec.Url];
        foreach (var url in starts) Enqueue(url.AbsoluteUri, 0, false);
    }

    private void Enqueue(string url, int depth, bool attachment)
    {
        if (!S.SeenPages.Add(url)) return;
        S.Frontier.Add(new FrontierEntry(url, depth, JobKind.Page, attachment));
        // The first page of a site in this round brings that site's sitemaps along.
        var spec = S.Spec!;
        var site = SiteKeys.Of(new Uri(url));
        if (spec.Scope != Urls.CrawlScopeKind.Urls && spec.MaxDepth >= 1 && S.SitesSeen.Add(site))
            S.Frontier.Add(new FrontierEntry(new Uri(new Uri(site), "/").AbsoluteUri, 1, JobKind.Sitemaps));
    }

    private void RecordError(string message)
    {
        S.Errors++;
        S.LastError = message.Length > 500 ? message[..500] : message;
    }

    private async Task StartRoundAsync()
    {
        S.Round++;
        S.State = TargetStates.Running;
        S.FinishedAt = null;
        S.NextRevisitAt = null;
        S.Frontier.Clear();
        S.SeenPages.Clear();
        S.FetchedPages.Clear();
        S.SitesSeen.Clear();
        S.ImagesThisRound.Clear();
        EnqueueStarts(S.Spec!);
        await WriteAsync();
        logger.LogInformation("Target {Id}: revisit, round {Round}", Id, S.Round);
    }

    private async Task FinishAsync()
    {
        // A crawl that fetched nothing and only failed is "failed"; otherwise it is done.
        S.State = S.FetchedPages.Count == 0 && S.Errors > 0 ? TargetStates.Failed : TargetStates.Done;
        S.FinishedAt = clock.GetUtcNow();
        S.NextRevisitAt = S.Spec!.RevisitMinutes > 0 ? S.FinishedAt + TimeSpan.FromMinutes(S.Spec.RevisitMinutes) : null;
        await WriteAsync();
        pump?.Dispose();
        pump = null;
        if (S.NextRevisitAt is null) await UnregisterReminderAsync();
        logger.LogInformation("Target {Id} {State} (round {Round}): {Pages} pages, {Images} images, {Matches} matches",
            Id, S.State, S.Round, S.PagesFetched, S.ImagesSeen, S.Matches);
    }

    private async Task WriteAsync()
    {
        dirty = false;
        lastWrite = clock.GetUtcNow();
        await state.WriteStateAsync();
    }

    private async Task EnsureReminderAsync()
    {
        var period = Options.KeepAlivePeriod;
        if (S.Spec is { RevisitMinutes: > 0 } spec && TimeSpan.FromMinutes(spec.RevisitMinutes) < period) period = TimeSpan.FromMinutes(spec.RevisitMinutes);
        if (period < reminderOptions.Value.MinimumReminderPeriod) period = reminderOptions.Value.MinimumReminderPeriod;
        await this.RegisterOrUpdateReminder(ReminderName, period, period);
    }

    private async Task UnregisterReminderAsync()
    {
        if (await this.GetReminder(ReminderName) is { } reminder) await this.UnregisterReminder(reminder);
    }
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
