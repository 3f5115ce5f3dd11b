using System.Net;
using System.Net.Http.Json;
using System.Text.RegularExpressions;

namespace LeakHunter.EndToEnd.Tests;

/// <summary>
/// A person's browser without the browser: a cookie jar, the anti-forgery token taken from the
/// page it was served with, and form posts. For API and page checks that need a signed-in user.
/// </summary>
public sealed partial class WebSession : IDisposable
{
    private readonly HttpClientHandler handler = new() { CookieContainer = new CookieContainer(), AllowAutoRedirect = false };

    public WebSession(Uri baseUrl) => Http = new HttpClient(handler) { BaseAddress = baseUrl, Timeout = TimeSpan.FromSeconds(60) };

    public HttpClient Http { get; }

    /// <summary>The token a page embeds for forms (hidden field) and scripts (meta tag).</summary>
    public async Task<string> TokenFromAsync(string path)
    {
        var html = await Http.GetStringAsync(path);
        var match = TokenPattern().Match(html);
        Assert.True(match.Success, $"no anti-forgery token on {path}");
        return WebUtility.HtmlDecode(match.Groups[1].Value);
    }

    public async Task<HttpResponseMessage> PostFormAsync(string formPage, string action, params (string Name, string Value)[] fields)
    {
        var token = await TokenFromAsync(formPage);
        var content = new FormUrlEncodedContent(fields.Select(f => KeyValuePair.Create(f.Name, f.Value))
            .Append(KeyValuePair.Create("__RequestVerificationToken", token)));
        return await Http.PostAsync(action, content);
    }

    public async Task SetUpAdministratorAsync(string username, string password)
    {
        var response = await PostFormAsync("/setup", "/setup", ("username", username), ("password", password));
        Assert.True(response.StatusCode == HttpStatusCode.Redirect, await response.Content.ReadAsStringAsync());
    }

    public async Task SignInAsync(string username, string password)
    {
        var response = await PostFormAsync("/login", "/login", ("username", username), ("password", password));
        Assert.True(response.StatusCode == HttpStatusCode.Redirect, $"sign-in of {username}: {(int)response.StatusCode}");
    }

    public async Task InviteAsync(string username, string password, string newWorkspace)
    {
        var response = await PostFormAsync("/admin", "/admin/users",
            ("username", username), ("password", password), ("workspace", "new"), ("newWorkspace", newWorkspace));
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
    }

    /// <summary>Makes an API key of the signed-in user's workspace, as the keys page does.</summary>
    public async Task<string> CreateApiKeyAsync(string name)
    {
        var token = await TokenFromAsync("/keys");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/apikeys") { Content = JsonContent.Create(new { name }) };
        request.Headers.Add("X-CSRF-TOKEN", token);
        var response = await Http.SendAsync(request);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>()).GetProperty("key").GetString()!;
    }

    public void Dispose()
    {
        Http.Dispose();
        handler.Dispose();
    }

    [GeneratedRegex("(?:name=\"__RequestVerificationToken\" value|name=\"csrf-token\" content)=\"([^\"]+)\"")]
    private static partial Regex TokenPattern();
}
