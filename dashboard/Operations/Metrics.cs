using System.Globalization;
using System.Text;
using LeakHunter.Crawler.Alerts;
using LeakHunter.Crawler.Grains;
using LeakHunter.Dashboard.Accounts;
using LeakHunter.Dashboard.Api;
using LeakHunter.Index.Originals;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace LeakHunter.Dashboard.Operations;

/// <summary>
/// <c>GET /metrics</c> in the Prometheus text format: crawl, match, webhook and queue figures
/// read from the grains, so every node of a cluster reports the same cluster-wide numbers.
/// A workspace's key sees its own workspace; an administrator (or the bootstrap key) sees all,
/// labelled by workspace. Scrape it with <c>authorization: { credentials: &lt;API key&gt; }</c>.
/// </summary>
public static class Metrics
{
    public static IEndpointRouteBuilder MapMetrics(this IEndpointRouteBuilder app)
    {
        app.MapGet("/metrics", async (HttpContext http, IGrainFactory grains) =>
        {
            var workspaces = http.User.IsAdmin()
                ? await grains.GetGrain<IWorkspaceRegistryGrain>(WorkspaceRegistryGrain.Key).ListAsync()
                : [http.WorkspaceId()];
            var text = await RenderAsync(grains, workspaces);
            return Results.Text(text, "text/plain; version=0.0.4; charset=utf-8");
        }).ExcludeFromDescription();
        return app;
    }

    public static async Task<string> RenderAsync(IGrainFactory grains, IReadOnlyList<string> workspaces)
    {
        var families = new List<Family>
        {
            new("leakhunter_originals", "gauge", "Registered originals."),
            new("leakhunter_recipient_copies", "gauge", "Watermarked recipient copies handed out."),
            new("leakhunter_targets", "gauge", "Crawl targets by state (queued and running targets are the crawl queue)."),
            new("leakhunter_crawl_pages_fetched_total", "counter", "Pages fetched by all targets."),
            new("leakhunter_crawl_images_seen_total", "counter", "Images fetched and matched by all targets."),
            new("leakhunter_crawl_errors_total", "counter", "Fetch and parse errors of all targets."),
            new("leakhunter_matches_total", "counter", "Leaks found (one per original and image URL)."),
            new("leakhunter_matches_reviewed", "gauge", "Matches the owner marked, by verdict."),
            new("leakhunter_matches_attributed_total", "counter", "Matches attributed to a recipient's copy by its watermark."),
            new("leakhunter_webhooks", "gauge", "Registered webhooks."),
            new("leakhunter_webhook_deliveries_pending", "gauge", "Webhook deliveries queued or waiting for a retry."),
            new("leakhunter_webhook_deliveries_total", "counter", "Webhook deliveries answered with 2xx."),
            new("leakhunter_webhook_delivery_failures_total", "counter", "Failed webhook delivery attempts (each is retried with backoff)."),
            new("leakhunter_webhook_deliveries_abandoned_total", "counter", "Webhook deliveries given up after the last retry."),
        };
        var byName = families.ToDictionary(f => f.Name);
        foreach (var workspace in workspaces)
        {
            var label = $"workspace=\"{Escape(workspace)}\"";
            var catalog = grains.GetGrain<IOriginalCatalogGrain>(workspace);
            var originals = await catalog.ListAsync();
            byName["leakhunter_originals"].Add(label, originals.Count);
            var copies = 0;
            foreach (var original in originals) copies += (await catalog.ListCopiesAsync(original.Id)).Count;
            byName["leakhunter_recipient_copies"].Add(label, copies);

            var targetIds = await grains.GetGrain<ITargetCatalogGrain>(workspace).ListAsync();
            var progress = (await Task.WhenAll(targetIds.Select(id => grains.GetGrain<ICrawlTargetGrain>(id).GetProgressAsync())))
                .OfType<TargetProgress>().ToList();
            foreach (var state in new[] { TargetStates.Queued, TargetStates.Running, TargetStates.Done, TargetStates.Failed })
                byName["leakhunter_targets"].Add($"{label},state=\"{state}\"", progress.Count(p => p.State == state));
            byName["leakhunter_crawl_pages_fetched_total"].Add(label, progress.Sum(p => (long)p.PagesFetched));
            byName["leakhunter_crawl_images_seen_total"].Add(label, progress.Sum(p => (long)p.ImagesSeen));
            byName["leakhunter_crawl_errors_total"].Add(label, progress.Sum(p => (long)p.Errors));

            var matches = await grains.GetGrain<IMatchLedgerGrain>(workspace).ListAsync(null, null);
            byName["leakhunter_matches_total"].Add(label, matches.Count);
            foreach (var review in new[] { MatchReviews.Confirmed, MatchReviews.FalseMatch })
                byName["leakhunter_matches_reviewed"].Add($"{label},review=\"{review}\"", matches.Count(m => m.Review == review));
            byName["leakhunter_matches_attributed_total"].Add(label, matches.Count(m => m.Attribution is not null));

            byName["leakhunter_webhooks"].Add(label, (await grains.GetGrain<IWebhookRegistryGrain>(workspace).ListAsync()).Count);
            var outbox = await grains.GetGrain<IAlertOutboxGrain>(workspace).StatsAsync();
            byName["leakhunter_webhook_deliveries_pending"].Add(label, outbox.Pending);
            byName["leakhunter_webhook_deliveries_total"].Add(label, outbox.Delivered);
            byName["leakhunter_webhook_delivery_failures_total"].Add(label, outbox.FailedAttempts);
            byName["leakhunter_webhook_deliveries_abandoned_total"].Add(label, outbox.Abandoned);
        }

        var silos = new Family("leakhunter_silo_activations", "gauge", "Grain activations per active silo.");
        var cpu = new Family("leakhunter_silo_cpu_percent", "gauge", "CPU use per active silo.");
        var memory = new Family("leakhunter_silo_memory_bytes", "gauge", "Memory use per active silo.");
        foreach (var load in (await SiloLoads.ReadAsync(grains)).Values)
        {
            var label = $"silo=\"{Escape(load.Silo)}\"";
            silos.Add(label, load.Activations);
            if (load.CpuPercent is { } c) cpu.Add(label, c);
            if (load.MemoryBytes is { } m) memory.Add(label, m);
        }
        var pages = new Family("leakhunter_silo_pages_fetched_total", "counter", "Pages each silo fetched (all workspaces).");
        var imagesFetched = new Family("leakhunter_silo_images_fetched_total", "counter", "Images each silo fetched (all workspaces).");
        var imagesMatched = new Family("leakhunter_silo_images_matched_total", "counter", "Images each silo matched (all workspaces).");
        foreach (var silo in await ClusterApi.GetSilosAsync(grains))
        {
            var label = $"silo=\"{Escape(silo.Silo)}\",status=\"{silo.Status}\"";
            pages.Add(label, silo.PagesFetched);
            imagesFetched.Add(label, silo.ImagesFetched);
            imagesMatched.Add(label, silo.ImagesMatched);
        }
        families.AddRange([silos, cpu, memory, pages, imagesFetched, imagesMatched]);

        var text = new StringBuilder();
        foreach (var family in families) family.WriteTo(text);
        return text.ToString();
    }

    private static string Escape(string value) => value.Replace("\\", "\\\\").Replace("\"", "\\\"").Replace("\n", "\\n");

    private sealed class Family(string name, string type, string help)
    {
        private readonly List<(string Labels, double Value)> samples = [];
        public string Name => name;
        public void Add(string labels, double value) => samples.Add((labels, value));

        public void WriteTo(StringBuilder text)
        {
            text.Append("# HELP ").Append(name).Append(' ').Append(help).Append('\n');
            text.Append("# TYPE ").Append(name).Append(' ').Append(type).Append('\n');
            foreach (var (labels, value) in samples)
                text.Append(name).Append('{').Append(labels).Append("} ").Append(value.ToString("R", CultureInfo.InvariantCulture)).Append('\n');
        }
    }
}
