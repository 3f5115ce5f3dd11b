using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using LeakHunter.Crawler.Alerts;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace LeakHunter.EndToEnd.Tests;

/// <summary>
/// The first user story end to end: register an original, point a target at a loopback
/// "forum" that holds a re-encoded copy, an unrelated picture and — in a section robots.txt
/// disallows — another copy, and receive exactly one correctly signed webhook.
/// </summary>
[Collection(NodeCollection.Name)]
public sealed class LeakToWebhookTests : IAsyncLifetime
{
    private const string Secret = "a-webhook-secret-of-some-length";
    private readonly string dataDirectory = Directory.CreateTempSubdirectory("leakhunter-e2e-").FullName;
    private readonly byte[] original = TestImages.Scene(seed: 1);
    private readonly ConcurrentQueue<(string Body, string Signature, string Delivery)> deliveries = new();
    private LoopbackSite forum = null!;
    private LoopbackSite receiver = null!;

    public async Task InitializeAsync()
    {
        var copy = TestImages.ResizedJpeg(original, 0.6, 70);
        var privateCopy = TestImages.ResizedJpeg(original, 0.5, 80);
        var unrelated = TestImages.ResizedJpeg(TestImages.Scene(seed: 2), 0.8, 85);
        forum = await LoopbackSite.StartAsync(app =>
        {
            app.MapGet("/robots.txt", () => "User-agent: *\nDisallow: /private/\n");
            app.MapGet("/", () => Html("<a href='/thread/1'>Leaks</a> <a href='/private/stash'>Members</a>"));
            app.MapGet("/thread/1", () => Html("<p>look</p><img src='/files/copy.jpg'><img src='/files/unrelated.jpg'>"));
            app.MapGet("/private/stash", () => Html("<img src='/private/copy2.jpg'>"));
            app.MapGet("/files/copy.jpg", () => Results.Bytes(copy, "image/jpeg"));
            app.MapGet("/files/unrelated.jpg", () => Results.Bytes(unrelated, "image/jpeg"));
            app.MapGet("/private/copy2.jpg", () => Results.Bytes(privateCopy, "image/jpeg"));
        });
        receiver = await LoopbackSite.StartAsync(app => app.MapPost("/hook", async (HttpRequest request) =>
        {
            var body = await new StreamReader(request.Body).ReadToEndAsync();
            deliveries.Enqueue((body, request.Headers[WebhookSigner.SignatureHeader].ToString(),
                request.Headers[WebhookSigner.DeliveryHeader].ToString()));
            return Results.Ok();
        }));
    }

    public async Task DisposeAsync()
    {
        await forum.DisposeAsync();
        await receiver.DisposeAsync();
        Directory.Delete(dataDirectory, recursive: true);
    }

    [Fact]
    public async Task A_leak_on_a_forum_raises_exactly_one_signed_webhook_and_survives_a_restart()
    {
        string originalId, targetId;
        await using (var node = await TestNode.StartAsync(dataDirectory))
        {
            originalId = await RegisterAsync(node.Http, original, "holiday.png", "Holiday");
            var hook = await node.Http.PostAsJsonAsync("/api/webhooks", new { url = new Uri(receiver.BaseUrl, "hook"), secret = Secret });
            Assert.Equal(HttpStatusCode.OK, hook.StatusCode);

            var created = await node.Http.PostAsJsonAsync("/api/targets", new { url = forum.BaseUrl, scope = "host", maxDepth = 3, maxPages = 50 });
            Assert.Equal(HttpStatusCode.OK, created.StatusCode);
            targetId = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;

            var target = await Polling.UntilAsync(() => node.Http.GetFromJsonAsync<JsonElement>($"/api/targets/{targetId}"),
                t => t.GetProperty("state").GetString() is "done" or "failed", TimeSpan.FromSeconds(90), "the crawl to finish");
            Assert.Equal("done", target.GetProperty("state").GetString());
            Assert.Equal(2, target.GetProperty("pagesFetched").GetInt32()); // "/" and "/thread/1"; "/private/stash" is disallowed
            Assert.Equal(2, target.GetProperty("imagesSeen").GetInt32());
            Assert.Equal(1, target.GetProperty("matches").GetInt32());

            await Polling.UntilAsync(() => Task.FromResult(deliveries.Count), n => n >= 1, TimeSpan.FromSeconds(30), "the webhook");
        }

        Assert.DoesNotContain(forum.RequestedPaths, p => p.StartsWith("/private/"));
        var delivery = Assert.Single(deliveries);
        Assert.True(WebhookSigner.Verify(Secret, delivery.Signature, delivery.Body, DateTimeOffset.UtcNow, TimeSpan.FromMinutes(5)),
            $"bad signature '{delivery.Signature}'");
        Assert.False(WebhookSigner.Verify("another-secret-entirely", delivery.Signature, delivery.Body, DateTimeOffset.UtcNow, TimeSpan.FromMinutes(5)));
        Assert.False(string.IsNullOrEmpty(delivery.Delivery));
        var alert = JsonDocument.Parse(delivery.Body).RootElement;
        Assert.Equal("leak.found", alert.GetProperty("event").GetString());
        Assert.Equal(originalId, alert.GetProperty("originalId").GetString());
        Assert.Equal("Holiday", alert.GetProperty("originalTitle").GetString());
        Assert.Equal(new Uri(forum.BaseUrl, "thread/1").AbsoluteUri, alert.GetProperty("pageUrl").GetString());
        Assert.Equal(new Uri(forum.BaseUrl, "files/copy.jpg").AbsoluteUri, alert.GetProperty("imageUrl").GetString());
        Assert.True(alert.GetProperty("score").GetDouble() > 0);

        // Everything registered, every target and every match is still there after a restart,
        // and no alert is sent twice.
        await using (var node = await TestNode.StartAsync(dataDirectory))
        {
            var originals = await node.Http.GetFromJsonAsync<JsonElement>("/api/originals");
            Assert.Equal(originalId, Assert.Single(originals.EnumerateArray()).GetProperty("id").GetString());
            var target = await node.Http.GetFromJsonAsync<JsonElement>($"/api/targets/{targetId}");
            Assert.Equal("done", target.GetProperty("state").GetString());
            var matches = await node.Http.GetFromJsonAsync<JsonElement>($"/api/matches?originalId={originalId}");
            var match = Assert.Single(matches.EnumerateArray());
            Assert.Equal(targetId, match.GetProperty("targetId").GetString());
            var found = await node.Http.GetAsync($"/api/matches/{match.GetProperty("id").GetString()}/image");
            Assert.Equal("image/jpeg", found.Content.Headers.ContentType?.MediaType);
            var image = await node.Http.GetAsync($"/api/originals/{originalId}/image");
            Assert.Equal(original, await image.Content.ReadAsByteArrayAsync());
        }
        Assert.Single(deliveries);
    }

    private static IResult Html(string body) => Results.Content($"<!doctype html><html><body>{body}</body></html>", "text/html");

    internal static async Task<string> RegisterAsync(HttpClient http, byte[] image, string fileName, string title)
    {
        using var form = new MultipartFormDataContent();
        var file = new ByteArrayContent(image);
        file.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        form.Add(file, "files", fileName);
        form.Add(new StringContent(title), "title");
        var response = await http.PostAsync("/api/originals", form);
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        var registered = await response.Content.ReadFromJsonAsync<JsonElement>();
        return Assert.Single(registered.EnumerateArray()).GetProperty("id").GetString()!;
    }
}

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class NodeCollection
{
    public const string Name = "LeakHunter node";
}
