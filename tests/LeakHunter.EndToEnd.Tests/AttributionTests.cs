using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace LeakHunter.EndToEnd.Tests;

/// <summary>
/// Per-recipient copies: a copy carries rights metadata and a watermark naming its recipient,
/// and a re-encoded copy found on a site is attributed to that recipient in the match and the webhook.
/// </summary>
[Collection(NodeCollection.Name)]
public sealed class AttributionTests
{
    [Fact]
    public async Task A_leaked_copy_is_attributed_to_its_recipient()
    {
        var dataDirectory = Directory.CreateTempSubdirectory("leakhunter-copies-").FullName;
        var deliveries = new ConcurrentQueue<string>();
        byte[]? leaked = null;
        await using var forum = await LoopbackSite.StartAsync(app =>
        {
            app.MapGet("/", () => Results.Content("<html><body><img src='/leak.jpg'></body></html>", "text/html"));
            app.MapGet("/leak.jpg", () => Results.Bytes(leaked!, "image/jpeg"));
        });
        await using var receiver = await LoopbackSite.StartAsync(app => app.MapPost("/hook", async (HttpRequest request) =>
        {
            deliveries.Enqueue(await new StreamReader(request.Body).ReadToEndAsync());
            return Results.Ok();
        }));
        try
        {
            await using var node = await TestNode.StartAsync(dataDirectory);
            var originalId = await LeakToWebhookTests.RegisterAsync(node.Http, TestImages.Scene(21, ".jpg"), "shoot.jpg", "Shoot");

            var copies = new Dictionary<string, string>();
            foreach (var recipient in new[] { "Agency X", "Agency Y" })
            {
                var made = await node.Http.PostAsJsonAsync($"/api/originals/{originalId}/copies", new { recipient, copyright = "© Owner" });
                Assert.Equal(HttpStatusCode.OK, made.StatusCode);
                var body = await made.Content.ReadFromJsonAsync<JsonElement>();
                copies[recipient] = body.GetProperty("downloadUrl").GetString()!;
            }
            var copyOfY = await node.Http.GetByteArrayAsync(copies["Agency Y"]);
            Assert.Equal(0xFF, copyOfY[0]); // a JPEG original gives a JPEG copy
            var metadata = Encoding.UTF8.GetString(copyOfY);
            Assert.Contains("DMI-PROHIBITED", metadata);
            Assert.Contains("© Owner", metadata);
            Assert.Equal(2, (await node.Http.GetFromJsonAsync<JsonElement>($"/api/originals/{originalId}/copies")).GetArrayLength());
            Assert.Equal(HttpStatusCode.BadRequest, (await node.Http.PostAsJsonAsync($"/api/originals/{originalId}/copies", new { note = "x" })).StatusCode);
            Assert.Equal(HttpStatusCode.NotFound, (await node.Http.PostAsJsonAsync("/api/originals/nope/copies", new { recipient = "Z" })).StatusCode);

            // Agency Y's copy leaks, re-encoded and scaled down by the site it was posted on.
            leaked = TestImages.ResizedJpeg(copyOfY, 0.8, 85);
            await node.Http.PostAsJsonAsync("/api/webhooks", new { url = new Uri(receiver.BaseUrl, "hook"), secret = "attribution-secret-0123" });
            var created = await node.Http.PostAsJsonAsync("/api/targets", new { url = forum.BaseUrl, scope = "host", maxDepth = 1, maxPages = 5 });
            var targetId = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString();
            await Polling.UntilAsync(() => node.Http.GetFromJsonAsync<JsonElement>($"/api/targets/{targetId}"),
                t => t.GetProperty("state").GetString() is "done" or "failed", TimeSpan.FromSeconds(60), "the crawl");

            var match = Assert.Single((await node.Http.GetFromJsonAsync<JsonElement>("/api/matches")).EnumerateArray());
            var attribution = match.GetProperty("attribution");
            Assert.Equal("Agency Y", attribution.GetProperty("recipient").GetString());
            await Polling.UntilAsync(() => Task.FromResult(deliveries.Count), n => n == 1, TimeSpan.FromSeconds(30), "the webhook");
            var alert = JsonDocument.Parse(Assert.Single(deliveries)).RootElement;
            Assert.Equal("Agency Y", alert.GetProperty("attribution").GetProperty("recipient").GetString());
        }
        finally
        {
            Directory.Delete(dataDirectory, recursive: true);
        }
    }
}
