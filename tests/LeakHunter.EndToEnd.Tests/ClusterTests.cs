using Microsoft.Extensions.DependencyInjection;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using LeakHunter.Crawler.Alerts;
using LeakHunter.Index.Originals;
using LeakHunter.SiloHost.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace LeakHunter.EndToEnd.Tests;

/// <summary>
/// Two silos and a dashboard client sharing a real redis-server: an original registered through
/// the dashboard reaches every silo's matcher, and a crawl run by the cluster raises the alert,
/// which the other silo delivers when the one holding it stops while the webhook is down.
/// </summary>
[Collection(NodeCollection.Name)]
public sealed class ClusterTests
{
    [Fact]
    public async Task Two_silos_and_a_dashboard_share_state_through_redis()
    {
        await using var redis = await RedisServer.StartAsync();
        var root = Directory.CreateTempSubdirectory("leakhunter-cluster-").FullName;
        var original = TestImages.Scene(seed: 11);
        var copy = TestImages.ResizedJpeg(original, 0.7, 75);
        var deliveries = new ConcurrentQueue<string>();
        var receiverUp = false;
        var refused = 0;
        await using var forum = await LoopbackSite.StartAsync(app =>
        {
            app.MapGet("/", () => Results.Content("<html><body><img src='/a.jpg'></body></html>", "text/html"));
            app.MapGet("/a.jpg", () => Results.Bytes(copy, "image/jpeg"));
        });
        await using var receiver = await LoopbackSite.StartAsync(app => app.MapPost("/hook", async (HttpRequest request) =>
        {
            if (!Volatile.Read(ref receiverUp))
            {
                Interlocked.Increment(ref refused);
                return Results.StatusCode(503);
            }
            deliveries.Enqueue(await new StreamReader(request.Body).ReadToEndAsync());
            return Results.Ok();
        }));
        // Short reminder periods, so that the outbox's reminder fires within the test.
        string[] cluster = ["--redis", redis.Endpoint, "--advertise", "127.0.0.1",
            "--Cluster:Reminders:MinimumReminderPeriod", "00:00:01", "--Crawler:KeepAlivePeriod", "00:00:02"];
        try
        {
            await using var silo1 = await TestNode.StartAsync(NodeRole.Silo, Path.Combine(root, "silo1"), cluster);
            await using var silo2 = await TestNode.StartAsync(NodeRole.Silo, Path.Combine(root, "silo2"), cluster);
            await using var dashboard = await TestNode.StartAsync(NodeRole.Dashboard, Path.Combine(root, "dashboard"), cluster);

            var originalId = await LeakToWebhookTests.RegisterAsync(dashboard.Http, original, "cluster.png", "Cluster");
            var image = await dashboard.Http.GetAsync($"/api/originals/{originalId}/image");
            Assert.Equal(original, await image.Content.ReadAsByteArrayAsync()); // blobs are shared through Redis
            Assert.Equal(HttpStatusCode.OK, (await dashboard.Http.PostAsJsonAsync("/api/webhooks",
                new { url = new Uri(receiver.BaseUrl, "hook"), secret = "cluster-secret-0123456789" })).StatusCode);

            // Every silo's matcher learns the original, whichever silo registered it.
            foreach (var silo in new[] { silo1, silo2 })
            {
                var matcher = silo.Services.GetRequiredService<LeakHunter.Index.Matching.CopyMatcher>();
                await Polling.UntilAsync(() => Task.FromResult(matcher.OriginalIds.Contains(originalId)), known => known,
                    TimeSpan.FromSeconds(30), "each silo's matcher to learn the original");
            }

            var created = await dashboard.Http.PostAsJsonAsync("/api/targets", new { url = forum.BaseUrl, scope = "host", maxDepth = 1, maxPages = 5 });
            var targetId = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString();
            var target = await Polling.UntilAsync(() => dashboard.Http.GetFromJsonAsync<JsonElement>($"/api/targets/{targetId}"),
                t => t.GetProperty("state").GetString() is "done" or "failed", TimeSpan.FromSeconds(60), "the cluster's crawl");
            Assert.Equal(1, target.GetProperty("matches").GetInt32());

            // The webhook is down: the alert waits in the outbox. Stop the silo holding the outbox; its
            // reminder must wake the outbox on the other silo, with no restart and no new match to do it.
            await Polling.UntilAsync(() => Task.FromResult(Volatile.Read(ref refused)), n => n >= 1, TimeSpan.FromSeconds(30), "a refused delivery");
            var grains = dashboard.Services.GetRequiredService<IGrainFactory>();
            var outboxSilo = await grains.GetGrain<IManagementGrain>(0).GetActivationAddress(grains.GetGrain<IAlertOutboxGrain>(Workspace.Default));
            var holder = new[] { silo1, silo2 }.Single(s => s.Services.GetRequiredService<ILocalSiloDetails>().SiloAddress.Equals(outboxSilo));
            await holder.DisposeAsync();
            Volatile.Write(ref receiverUp, true);
            await Polling.UntilAsync(() => Task.FromResult(deliveries.Count), n => n == 1, TimeSpan.FromSeconds(60), "the webhook, from the other silo");
            Assert.Equal(originalId, JsonDocument.Parse(Assert.Single(deliveries)).RootElement.GetProperty("originalId").GetString());
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }
}
