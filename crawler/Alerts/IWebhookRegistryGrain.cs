using Orleans.Runtime;
namespace LeakHunter.Crawler.Alerts;

/// <summary>A webhook as the API shows it (never with its secret).</summary>
[GenerateSerializer, Immutable]
public sealed record WebhookInfo(
    [property: Id(0)] string Id,
    [property: Id(1)] string Url,
    [property: Id(2)] DateTimeOffset CreatedAt);

/// <summary>A webhook with the secret deliveries are signed with.</summary>
[GenerateSerializer, Immutable]
public sealed record WebhookSubscription(
    [property: Id(0)] WebhookInfo Info,
    [property: Id(1)] string Secret);

/// <summary>A workspace's webhooks. Key: workspace name.</summary>
public interface IWebhookRegistryGrain : IGrainWithStringKey
{
    Task<WebhookInfo> AddAsync(Uri url, string secret);
    Task<IReadOnlyList<WebhookInfo>> ListAsync();
    Task<WebhookSubscription?> GetAsync(string webhookId);
    Task<IReadOnlyList<WebhookSubscription>> ListSubscriptionsAsync();
    Task<bool> RemoveAsync(string webhookId);
}

public sealed class WebhookRegistryState
{
    public List<WebhookSubscription> Webhooks { get; set; } = [];
}

public sealed class WebhookRegistryGrain(
    [PersistentState("webhooks", Index.Grains.StorageNames.State)] IPersistentState<WebhookRegistryState> state)
    : Grain, IWebhookRegistryGrain
{
    public async Task<WebhookInfo> AddAsync(Uri url, string secret)
    {
        var info = new WebhookInfo(Guid.NewGuid().ToString("N")[..16], url.AbsoluteUri, DateTimeOffset.UtcNow);
        state.State.Webhooks.Add(new WebhookSubscription(info, secret));
        await state.WriteStateAsync();
        return info;
    }

    public Task<IReadOnlyList<WebhookInfo>> ListAsync() =>
        Task.FromResult<IReadOnlyList<WebhookInfo>>(state.State.Webhooks.Select(w => w.Info).ToList());

    public Task<WebhookSubscription?> GetAsync(string webhookId) =>
        Task.FromResult(state.State.Webhooks.FirstOrDefault(w => w.Info.Id == webhookId));

    public Task<IReadOnlyList<WebhookSubscription>> ListSubscriptionsAsync() =>
        Task.FromResult<IReadOnlyList<WebhookSubscription>>(state.State.Webhooks.ToList());

    public async Task<bool> RemoveAsync(string webhookId)
    {
        if (state.State.Webhooks.RemoveAll(w => w.Info.Id == webhookId) == 0) return false;
        await state.WriteStateAsync();
        return true;
    }
}
