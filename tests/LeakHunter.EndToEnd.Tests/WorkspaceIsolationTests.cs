using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace LeakHunter.EndToEnd.Tests;

/// <summary>
/// Nobody sees or touches another workspace's data: every object of workspace A answers 404 to
/// a user and to an API key of workspace B, exactly as an object that does not exist; nothing
/// but /healthz answers without credentials; cookie writes need the anti-forgery token.
/// </summary>
[Collection(NodeCollection.Name)]
public sealed class WorkspaceIsolationTests : IAsyncLifetime
{
    private const string AdminPassword = "correct horse battery staple";
    private const string BobPassword = "another long password";
    private readonly string dataDirectory = Directory.CreateTempSubdirectory("leakhunter-isolation-").FullName;
    private LoopbackSite forum = null!;
    private readonly byte[] picture = TestImages.Scene(seed: 11);

    public async Task InitializeAsync()
    {
        var copy = TestImages.ResizedJpeg(picture, 0.7, 75);
        forum = await LoopbackSite.StartAsync(app =>
        {
            app.MapGet("/", () => Results.Content("<html><body><img src='/leak.jpg'></body></html>", "text/html"));
            app.MapGet("/leak.jpg", () => Results.Bytes(copy, "image/jpeg"));
        });
    }

    public async Task DisposeAsync()
    {
        await forum.DisposeAsync();
        Directory.Delete(dataDirectory, recursive: true);
    }

    [Fact]
    public async Task A_user_or_key_of_another_workspace_gets_404_for_every_object()
    {
        await using var node = await TestNode.StartAsync(dataDirectory);
        using var admin = new WebSession(node.BaseUrl);
        await admin.SetUpAdministratorAsync("alice", AdminPassword);
        await admin.InviteAsync("bob", BobPassword, "Agency");
        var aliceKey = await admin.CreateApiKeyAsync("automation");
        using var alice = node.ClientWithKey(aliceKey);

        // Workspace A (alice's, the default one): an original, a copy, a webhook, a target and its match.
        var originalId = await LeakToWebhookTests.RegisterAsync(alice, picture, "private.png", "Private");
        var copy = await (await alice.PostAsJsonAsync($"/api/originals/{originalId}/copies", new { recipient = "Agency X" }))
            .Content.ReadFromJsonAsync<JsonElement>();
        var copyId = copy.GetProperty("copyId").GetString()!;
        var webhook = await (await alice.PostAsJsonAsync("/api/webhooks", new { url = "http://127.0.0.1:9/hook", secret = "a-long-enough-secret" }))
            .Content.ReadFromJsonAsync<JsonElement>();
        var webhookId = webhook.GetProperty("id").GetString()!;
        var target = await (await alice.PostAsJsonAsync("/api/targets", new { url = forum.BaseUrl, scope = "host", maxDepth = 1, maxPages = 5 }))
            .Content.ReadFromJsonAsync<JsonElement>();
        var targetId = target.GetProperty("id").GetString()!;
        var matches = await Polling.UntilAsync(() => alice.GetFromJsonAsync<JsonElement>("/api/matches"),
            m => m.GetArrayLength() == 1, TimeSpan.FromSeconds(60), "alice's match");
        var matchId = matches[0].GetProperty("id").GetString()!;

        using var bob = new WebSession(node.BaseUrl);
        await bob.SignInAsync("bob", BobPassword);
        var bobKey = await bob.CreateApiKeyAsync("bob's scripts");
        using var bobApi = node.ClientWithKey(bobKey);

        string[] objectUrls =
        [
            $"/api/originals/{originalId}", $"/api/originals/{originalId}/image", $"/api/originals/{originalId}/copies",
            $"/api/copies/{copyId}/download", $"/api/targets/{targetId}", $"/api/matches/{matchId}",
            $"/api/matches/{matchId}/image", $"/api/matches/{matchId}/evidence",
        ];
        foreach (var client in new[] { bobApi, bob.Http })
        {
            foreach (var url in objectUrls)
                Assert.True(HttpStatusCode.NotFound == (await client.GetAsync(url)).StatusCode, $"{url} must be 404 for workspace B");
            Assert.Equal(0, (await client.GetFromJsonAsync<JsonElement>("/api/originals")).GetArrayLength());
            Assert.Equal(0, (await client.GetFromJsonAsync<JsonElement>("/api/targets")).GetArrayLength());
            Assert.Equal(0, (await client.GetFromJsonAsync<JsonElement>("/api/matches")).GetArrayLength());
            Assert.Equal(0, (await client.GetFromJsonAsync<JsonElement>("/api/webhooks")).GetArrayLength());
        }
        // Pages too.
        Assert.Equal(HttpStatusCode.NotFound, (await bob.Http.GetAsync($"/originals/{originalId}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await bob.Http.GetAsync($"/matches/{matchId}")).StatusCode);
        // Writes to A's objects are 404 as well, and change nothing.
        Assert.Equal(HttpStatusCode.NotFound, (await bobApi.DeleteAsync($"/api/originals/{originalId}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await bobApi.DeleteAsync($"/api/webhooks/{webhookId}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await bobApi.PostAsJsonAsync($"/api/originals/{originalId}/copies", new { recipient = "Thief" })).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await bobApi.PostAsJsonAsync($"/api/matches/{matchId}/review", new { review = "false-match" })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await alice.GetAsync($"/api/originals/{originalId}")).StatusCode);
        Assert.Equal(1, (await alice.GetFromJsonAsync<JsonElement>("/api/webhooks")).GetArrayLength());
        Assert.Equal(JsonValueKind.Null, (await alice.GetFromJsonAsync<JsonElement>($"/api/matches/{matchId}")).GetProperty("review").ValueKind);

        // B's own picture is B's alone; the same picture registered by A does not leak A's matches to B.
        var bobOriginal = await LeakToWebhookTests.RegisterAsync(bobApi, TestImages.Scene(seed: 12), "bob.png", "Bob's");
        Assert.Equal(HttpStatusCode.NotFound, (await alice.GetAsync($"/api/originals/{bobOriginal}")).StatusCode);
        Assert.Equal(originalId, Assert.Single((await alice.GetFromJsonAsync<JsonElement>("/api/originals")).EnumerateArray()).GetProperty("id").GetString());
    }

    [Fact]
    public async Task Only_healthz_is_open_keys_can_be_revoked_and_cookie_writes_need_the_antiforgery_token()
    {
        await using var node = await TestNode.StartAsync(dataDirectory);
        using var anonymous = node.ClientWithKey(null);
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/healthz")).StatusCode);
        foreach (var url in new[] { "/api/originals", "/api/targets", "/api/matches", "/api/webhooks", "/api/apikeys", "/metrics" })
            Assert.True(HttpStatusCode.Unauthorized == (await anonymous.GetAsync(url)).StatusCode, $"{url} must need credentials");
        using var noRedirect = new WebSession(node.BaseUrl);
        var dashboard = await noRedirect.Http.GetAsync("/");
        Assert.Equal(HttpStatusCode.Redirect, dashboard.StatusCode);
        Assert.StartsWith("/login", dashboard.Headers.Location!.PathAndQuery);
        using var wrongKey = node.ClientWithKey("lhk_not-a-key-anyone-issued");
        Assert.Equal(HttpStatusCode.Unauthorized, (await wrongKey.GetAsync("/api/originals")).StatusCode);

        using var admin = new WebSession(node.BaseUrl);
        await admin.SetUpAdministratorAsync("alice", AdminPassword);
        // Setting up twice is refused: the first administrator is the only one made this way.
        using var intruder = new WebSession(node.BaseUrl);
        var second = await intruder.PostFormAsync("/login", "/setup", ("username", "mallory"), ("password", "mallory's long password"));
        Assert.Equal(HttpStatusCode.Redirect, second.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await intruder.PostFormAsync("/login", "/login", ("username", "mallory"), ("password", "mallory's long password"))).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await intruder.PostFormAsync("/login", "/login", ("username", "alice"), ("password", "wrong password!"))).StatusCode);

        // A signed-in browser's write without the anti-forgery token (a forged cross-site request) is refused.
        var forged = await admin.Http.PostAsJsonAsync("/api/webhooks", new { url = "http://127.0.0.1:9/x", secret = "a-long-enough-secret" });
        Assert.Equal(HttpStatusCode.Forbidden, forged.StatusCode);

        var key = await admin.CreateApiKeyAsync("short-lived");
        using var withKey = node.ClientWithKey(key);
        Assert.Equal(HttpStatusCode.OK, (await withKey.GetAsync("/api/originals")).StatusCode);
        var keys = await withKey.GetFromJsonAsync<JsonElement>("/api/apikeys");
        Assert.DoesNotContain(key, keys.GetRawText()); // shown once, stored hashed
        var keyId = keys.EnumerateArray().Single(k => k.GetProperty("name").GetString() == "short-lived").GetProperty("id").GetString();
        Assert.Equal(HttpStatusCode.NoContent, (await withKey.DeleteAsync($"/api/apikeys/{keyId}")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await withKey.GetAsync("/api/originals")).StatusCode);

        var metrics = await node.Http.GetStringAsync("/metrics");
        Assert.Contains("# TYPE leakhunter_matches_total counter", metrics);
        Assert.Contains("leakhunter_originals{workspace=\"default\"} 0", metrics);
        Assert.Contains("leakhunter_silo_activations{silo=", metrics);

        // Guessing passwords is slowed down: at most 10 sign-in attempts a minute from one address.
        var statuses = new List<HttpStatusCode>();
        for (var attempt = 0; attempt < 12; attempt++)
            statuses.Add((await intruder.PostFormAsync("/login", "/login", ("username", "alice"), ("password", $"guess number {attempt}"))).StatusCode);
        Assert.Contains(HttpStatusCode.TooManyRequests, statuses);
    }
}
