using System.Net;
using LeakHunter.Dashboard.Accounts;
using LeakHunter.Dashboard.Operations;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace LeakHunter.Dashboard.Pages;

/// <summary>The shared page frame: head, styles, navigation, and the anti-forgery token scripts send back.</summary>
public static class Html
{
    public static string E(string? text) => WebUtility.HtmlEncode(text ?? "");

    public static string Token(HttpContext context) =>
        context.RequestServices.GetRequiredService<IAntiforgery>().GetAndStoreTokens(context).RequestToken ?? "";

    /// <summary>A hidden form field carrying the anti-forgery token.</summary>
    public static string TokenField(HttpContext context) =>
        $"<input type=\"hidden\" name=\"__RequestVerificationToken\" value=\"{E(Token(context))}\">";

    public static IResult Page(HttpContext context, string title, string body, string? script = null, int status = 200, bool live = false)
    {
        var user = context.User;
        var signedIn = user.Identity?.IsAuthenticated == true;
        var nav = !signedIn ? "" : $"""
            <nav>
              <a href="/">Dashboard</a>
              <a href="/keys">API keys</a>
              <a href="/cluster">Cluster</a>
              {(user.IsAdmin() ? "<a href=\"/admin\">Users</a>" : "")}
              <span class="who">{E(user.Identity!.Name)}</span>
              <form method="post" action="/logout" class="inline">{TokenField(context)}<button>Sign out</button></form>
            </nav>
            """;
        var html = $$"""
            <!doctype html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <meta name="csrf-token" content="{{E(Token(context))}}">
            <title>{{E(title)}} · LeakHunter</title>
            <style>{{Styles}}</style>
            </head>
            <body>
            <header><a href="/" class="brand">LeakHunter</a>{{nav}}</header>
            <main>
            {{body}}
            </main>
            {{(live ? $"<script src=\"{ScriptLibraries.SignalRPath}\"></script>" : "")}}
            {{(script is null ? "" : $"<script>{ScriptHelpers}{script}</script>")}}
            </body>
            </html>
            """;
        return Results.Content(html, "text/html; charset=utf-8", statusCode: status);
    }

    /// <summary>Shared by every page that calls the API from script: escaping, the CSRF header, problem details.</summary>
    public const string ScriptHelpers = """
        'use strict';
        const $ = id => document.getElementById(id);
        const text = s => { const span = document.createElement('span'); span.textContent = s ?? ''; return span.innerHTML; };
        const csrf = document.querySelector('meta[name=csrf-token]').content;
        const api = (url, options = {}) => fetch(url, { ...options, headers: { 'X-CSRF-TOKEN': csrf, ...(options.headers || {}) } });
        const json = (url, method, body) => api(url, { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
        async function problemText(response) {
          try {
            const p = await response.json();
            const lines = [p.detail || p.title || response.statusText];
            for (const [field, reasons] of Object.entries(p.errors || {})) lines.push(`${field}: ${reasons.join('; ')}`);
            return lines.join('\n');
          } catch { return `${response.status} ${response.statusText}`; }
        }
        """;

    private const string Styles = """
        body { font-family: system-ui, sans-serif; margin: 0; background: #f5f6f8; color: #1d2330; }
        header { background: #1d2330; color: #fff; padding: 10px 24px; display: flex; align-items: center; gap: 24px; }
        header a { color: #fff; text-decoration: none; }
        .brand { font-size: 20px; font-weight: 600; }
        nav { display: flex; gap: 16px; align-items: center; flex: 1; }
        nav .who { margin-left: auto; color: #bbb; }
        form.inline { display: inline; margin: 0; }
        main { max-width: 1150px; margin: 0 auto; padding: 16px 24px; }
        section { background: #fff; border-radius: 8px; padding: 16px; margin-bottom: 16px; box-shadow: 0 1px 2px #0002; }
        h1 { font-size: 22px; } h2 { margin-top: 0; font-size: 18px; }
        .grid { display: flex; flex-wrap: wrap; gap: 12px; }
        .card { width: 180px; font-size: 12px; }
        .card img { width: 180px; height: 130px; object-fit: cover; border-radius: 4px; background: #ddd; }
        .card form input { width: 110px; }
        table { border-collapse: collapse; width: 100%; font-size: 14px; }
        td, th { text-align: left; padding: 6px; border-bottom: 1px solid #eee; vertical-align: top; }
        .pair img { max-width: 160px; max-height: 120px; margin-right: 8px; border: 1px solid #ccc; }
        .error { color: #b00020; white-space: pre-wrap; }
        .ok { color: #1b7a35; }
        .muted { color: #777; }
        .dropzone { border: 2px dashed #99a; border-radius: 8px; padding: 24px; text-align: center; color: #556; }
        .dropzone.over { background: #eef; }
        .uploads li { font-size: 13px; }
        .evidence { display: flex; gap: 16px; flex-wrap: wrap; }
        .evidence figure { margin: 0; }
        .evidence img { max-width: 520px; max-height: 420px; border: 1px solid #ccc; display: block; }
        .frame { position: relative; display: inline-block; }
        .frame svg { position: absolute; left: 0; top: 0; width: 100%; height: 100%; pointer-events: none; }
        code { background: #f0f0f4; padding: 1px 4px; border-radius: 3px; word-break: break-all; }
        input[type=text], input[type=url], input[type=number], input[type=password], input[type=search], select { padding: 5px; }
        """;
}
