using Orleans.Runtime;
using System.Text;
using System.Text.Json;
using LeakHunter.Index.Grains;
using LeakHunter.Crawler.Fetching;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Hosting;

namespace LeakHunter.Crawler.Alerts;

/// <summary>A workspace's undelivered webhook alerts. Key: workspace name.</summary>
public interface IAlertOutboxGrain : IGrainWithStringKey
{
    /// <summary>Queues one delivery per webhook; a match queued before is ignored.</summary>
    Task EnqueueAsync(MatchRecord match);

    /// <summary>Wakes the outbox so it resumes delivering after a restart.</summary>
    Task ResumeAsync();

    Task<OutboxStats> StatsAsync();
}

/// <summary>Webhook delivery figures of one workspace, for /metrics.</summary>
[GenerateSerializer, Immutable]
public sealed record OutboxStats(
    [property: Id(0)] int Pending,
    [property: Id(1)] long Delivered,
    [property: Id(2)] long FailedAttempts,
    [property: Id(3)] long Abandoned);

/// <summary>One signed POST still owed to one webhook. The body is fixed when queued; the delivery id stays the same across retries.</summary>
public sealed class PendingDelivery
{
    public required string DeliveryId { get; set; }
    public required string WebhookId { get; set; }
    public required string MatchId { get; set; }
    public required string Body { get; set; }
    public int Attempts { get; set; }
    public DateTimeOffset NextAttemptAt { get; set; }
    public string? LastError { get; set; }
}

public sealed class AlertOutboxState
{
    public List<PendingDelivery> Pending { get; set; } = [];
    /// <summary>Every match ever queued, so a re-queued match is not delivered twice.</summary>
    public HashSet<string> QueuedMatchIds { get; set; } = new(StringComparer.Ordinal);
    public long Delivered { get; set; }
    public long FailedAttempts { get; set; }
    public long Abandoned { get; set; }
}

/// <summary>
/// Delivers alerts at least once: deliveries live in grain state until a webhook answers 2xx,
/// are retried with exponential backoff, and survive restarts. Receivers deduplicate by the
/// <c>X-LeakHunter-Delivery</c> header, which stays the same across retries. While deliveries
/// are owed a reminder wakes the outbox, so that they go out from a surviving silo if its own dies.
/// </summary>
public sealed class AlertOutboxGrain(
    [PersistentState("outbox", StorageNames.State)] IPersistentState<AlertOutboxState> state,
    IHttpClientFactory httpClients,
    IOptions<CrawlerOptions> options,
    IOptions<ReminderOptions> reminderOptions,
    TimeProvider clock,
    ILogger<AlertOutboxGrain> logger) : Grain, IAlertOutboxGrain, IRemindable
{
    public const string HttpClientName = "webhooks";
    private const int MaxAttempts = 20;
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromHours(1);
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private IGrainTimer? timer;
    private OwedWorkReminder? owed;
    private OwedWorkReminder Owed => owed ??= new OwedWorkReminder(this, "deliver", options.Value, reminderOptions.Value);

    public override Task OnActivateAsync(CancellationToken cancellationToken) => EnsureDeliveringAsync();

    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        if (state.State.Pending.Count > 0) await EnsureDeliveringAsync();
        else await Owed.DropAsync(evenIfNotRegisteredHere: true);
    }

    public async Task EnqueueAsync(MatchRecord match)
    {
        if (!state.State.QueuedMatchIds.Add(match.Id)) return;
        var body = JsonSerializer.Serialize(LeakFoundEvent.From(match), Json);
        var webhooks = await GrainFactory.GetGrain<IWebhookRegistryGrain>(this.GetPrimaryKeyString()).ListAsync();
        foreach (var webhook in webhooks)
        {
            state.State.Pending.Add(new PendingDelivery
            {
                DeliveryId = Guid.NewGuid().ToString("N"),
                WebhookId = webhook.Id,
                MatchId = match.Id,
                Body = body,
                NextAttemptAt = clock.GetUtcNow(),
            });
        }
        if (state.State.Pending.Count > 0)
            await Owed.KeepAsync();
        await state.WriteStateAsync();
        await EnsureDeliveringAsync();
    }

    public Task ResumeAsync() => EnsureDeliveringAsync();

    public Task<OutboxStats> StatsAsync() => Task.FromResult(new OutboxStats(
        state.State.Pending.Count, state.State.Delivered, state.State.FailedAttempts, state.State.Abandoned));

    /// <summary>While deliveries are owed: the timer that sends them, and the reminder that outlives this silo.</summary>
    private async Task EnsureDeliveringAsync()
    {
        if (state.State.Pending.Count == 0) return;
        timer ??= this.RegisterGrainTimer(DeliverDueAsync, new GrainTimerCreationOptions(TimeSpan.Zero, TimeSpan.FromMilliseconds(250)) { KeepAlive = true });
        await Owed.KeepAsync();
    }

    private async Task DeliverDueAsync(CancellationToken cancellationToken)
    {
        var registry = GrainFactory.GetGrain<IWebhookRegistryGrain>(this.GetPrimaryKeyString());
        var now = clock.GetUtcNow();
        var changed = false;
        foreach (var delivery in state.State.Pending.Where(d => d.NextAttemptAt <= now).ToList())
        {
            changed = true;
            var webhook = await registry.GetAsync(delivery.WebhookId);
            if (webhook is null)
            {
                state.State.Pending.Remove(delivery); // the webhook was removed
                continue;
            }
            if (await TrySendAsync(webhook, delivery, cancellationToken))
            {
                state.State.Pending.Remove(delivery);
                state.State.Delivered++;
                continue;
            }
            state.State.FailedAttempts++;
            delivery.Attempts++;
            if (delivery.Attempts >= MaxAttempts)
            {
                logger.LogError("Giving up on delivery {Delivery} to webhook {Webhook} after {Attempts} attempts: {Error}",
                    delivery.DeliveryId, delivery.WebhookId, delivery.Attempts, delivery.LastError);
                state.State.Pending.Remove(delivery);
                state.State.Abandoned++;
                continue;
            }
            var backoff = TimeSpan.FromSeconds(Math.Pow(2, delivery.Attempts - 1));
            delivery.NextAttemptAt = clock.GetUtcNow() + (backoff < MaxBackoff ? backoff : MaxBackoff);
        }
        if (changed) await state.WriteStateAsync();
        if (state.State.Pending.Count == 0)
        {
            timer?.Dispose();
            timer = null;
            await Owed.DropAsync();
        }
    }

    private async Task<bool> TrySendAsync(WebhookSubscription webhook, PendingDelivery delivery, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, webhook.Info.Url)
        {
            Content = new StringContent(delivery.Body, Encoding.UTF8, "application/json"),
        };
        request.Headers.Add(WebhookSigner.SignatureHeader, WebhookSigner.Sign(webhook.Secret, clock.GetUtcNow().ToUnixTimeSeconds(), delivery.Body));
        request.Headers.Add(WebhookSigner.DeliveryHeader, delivery.DeliveryId);
        try
        {
            using var response = await httpClients.CreateClient(HttpClientName).SendAsync(request, cancellationToken);
            if (response.IsSuccessStatusCode) return true;
            delivery.LastError = $"HTTP {(int)response.StatusCode}";
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            delivery.LastError = e.Message;
        }
        logger.LogWarning("Webhook delivery {Delivery} to {Url} failed: {Error}", delivery.DeliveryId, webhook.Info.Url, delivery.LastError);
        return false;
    }
}

/// <summary>The JSON body of a <c>leak.found</c> webhook: the event name and the match's fields.</summary>
public sealed record LeakFoundEvent(
    string Event, string Id, string OriginalId, string OriginalTitle, string TargetId, string PageUrl,
    string ImageUrl, double Score, DateTimeOffset FoundAt, Index.Matching.MatchTransform? Transform,
    Index.Copies.Attribution? Attribution)
{
    public static LeakFoundEvent From(MatchRecord m) => new("leak.found", m.Id, m.OriginalId, m.OriginalTitle,
        m.TargetId, m.PageUrl, m.ImageUrl, m.Score, m.FoundAt, m.Transform, m.Attribution);
}
