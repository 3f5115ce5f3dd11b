using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace LeakHunter.EndToEnd.Tests;

/// <summary>Wrong input gets 400 with problem details, unknown ids 404, and nothing is stored by a refused request.</summary>
[Collection(NodeCollection.Name)]
public sealed class ApiValidationTests : IAsyncLifetime
{
    private readonly string dataDirectory = Directory.CreateTempSubdirectory("leakhunter-api-").FullName;
    private TestNode node = null!;

    public async Task InitializeAsync() => node = await TestNode.StartAsync(dataDirectory);

    public async Task DisposeAsync()
    {
        await node.DisposeAsync();
        Directory.Delete(dataDirectory, recursive: true);
    }

    [Fact]
    public async Task A_batch_with_one_bad_file_is_refused_whole_with_a_reason_per_file()
    {
        using var form = new MultipartFormDataContent();
        form.Add(new ByteArrayContent(TestImages.Scene(3)), "files", "good.png");
        form.Add(new ByteArrayContent(Encoding.UTF8.GetBytes("<html>not an image</html>")), "files", "page.png");
        var truncated = TestImages.Scene(4, ".jpg")[..2000];
        form.Add(new ByteArrayContent(truncated), "files", "truncated.jpg");
        var response = await node.Http.PostAsync("/api/originals", form);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        var errors = problem.GetProperty("errors");
        Assert.True(errors.TryGetProperty("page.png", out _), problem.ToString());
        Assert.Empty((await node.Http.GetFromJsonAsync<JsonElement>("/api/originals")).EnumerateArray());
    }

    [Fact]
    public async Task A_file_over_the_size_cap_is_refused_by_name_not_by_a_transport_error()
    {
        using var form = new MultipartFormDataContent();
        form.Add(new ByteArrayContent(new byte[(int)LeakHunter.Dashboard.Api.OriginalsApi.MaxFileBytes + 1]), "files", "huge.jpg");
        var response = await node.Http.PostAsync("/api/originals", form);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Contains("larger than 64 MB", problem.GetProperty("errors").GetProperty("huge.jpg")[0].GetString());
    }

    [Fact]
    public async Task Registering_the_same_picture_twice_is_refused_as_a_duplicate()
    {
        var picture = TestImages.Scene(5);
        await LeakToWebhookTests.RegisterAsync(node.Http, picture, "one.png", "One");
        using var form = new MultipartFormDataContent { { new ByteArrayContent(picture), "files", "again.png" } };
        var response = await node.Http.PostAsync("/api/originals", form);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("duplicate", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Uploads_without_files_and_non_multipart_bodies_are_refused()
    {
        using var empty = new MultipartFormDataContent { { new StringContent("x"), "title" } };
        Assert.Equal(HttpStatusCode.BadRequest, (await node.Http.PostAsync("/api/originals", empty)).StatusCode);
        var json = new StringContent("{}", Encoding.UTF8, "application/json");
        Assert.Equal(HttpStatusCode.BadRequest, (await node.Http.PostAsync("/api/originals", json)).StatusCode);
    }

    [Theory]
    [InlineData("""{"scope":"host"}""")]
    [InlineData("""{"url":"not a url"}""")]
    [InlineData("""{"url":"ftp://example.com/"}""")]
    [InlineData("""{"url":"https://example.com/","scope":"planet"}""")]
    [InlineData("""{"url":"https://example.com/","maxDepth":-1}""")]
    [InlineData("""{"url":"https://example.com/","maxPages":0}""")]
    [InlineData("""{"url":"https://example.com/","scope":"urls"}""")]
    [InlineData("""{"url":"https://example.com/","scope":"urls","urls":["javascript:alert(1)"]}""")]
    public async Task Bad_targets_are_refused_with_problem_details(string body)
    {
        var response = await node.Http.PostAsync("/api/targets", new StringContent(body, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Theory]
    [InlineData("""{"url":"not a url","secret":"0123456789abcdef"}""")]
    [InlineData("""{"url":"https://hooks.example/x","secret":"short"}""")]
    [InlineData("""{"url":"https://hooks.example/x"}""")]
    public async Task Bad_webhooks_are_refused(string body)
    {
        var response = await node.Http.PostAsync("/api/webhooks", new StringContent(body, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Theory]
    [InlineData("/api/originals/nope")]
    [InlineData("/api/originals/nope/image")]
    [InlineData("/api/targets/nope")]
    [InlineData("/api/webhooks/nope")]
    [InlineData("/api/matches/nope")]
    public async Task Unknown_ids_are_404(string path)
    {
        var response = await node.Http.GetAsync(path);
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Webhooks_and_originals_can_be_listed_and_deleted()
    {
        var created = await node.Http.PostAsJsonAsync("/api/webhooks", new { url = "https://hooks.example/x", secret = "0123456789abcdef" });
        var id = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString();
        var listed = await node.Http.GetFromJsonAsync<JsonElement>("/api/webhooks");
        Assert.Contains(listed.EnumerateArray(), w => w.GetProperty("id").GetString() == id);
        Assert.DoesNotContain("0123456789abcdef", listed.ToString()); // secrets are never shown
        Assert.Equal(HttpStatusCode.NoContent, (await node.Http.DeleteAsync($"/api/webhooks/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await node.Http.DeleteAsync($"/api/webhooks/{id}")).StatusCode);

        var originalId = await LeakToWebhookTests.RegisterAsync(node.Http, TestImages.Scene(6), "six.png", "Six");
        Assert.Equal(HttpStatusCode.NoContent, (await node.Http.DeleteAsync($"/api/originals/{originalId}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await node.Http.GetAsync($"/api/originals/{originalId}/image")).StatusCode);
    }

    [Fact]
    public async Task The_OpenAPI_document_and_the_dashboard_are_served()
    {
        var openApi = await node.Http.GetFromJsonAsync<JsonElement>("/openapi/v1.json");
        Assert.True(openApi.GetProperty("paths").TryGetProperty("/api/originals", out _));
        var page = await node.Http.GetStringAsync("/");
        Assert.Contains("Protected originals", page);
    }
}
