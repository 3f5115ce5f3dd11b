using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace LeakHunter.Dashboard.Operations;

/// <summary>
/// Third-party browser scripts the pages load, shipped inside the assembly (no CDN: the
/// dashboard must work on machines without internet, and pages must not leak to third parties).
/// </summary>
public static class ScriptLibraries
{
    public const string SignalRPath = "/lib/signalr/signalr.min.js";

    private static readonly Lazy<byte[]> SignalR = new(() =>
    {
        using var stream = typeof(ScriptLibraries).Assembly.GetManifestResourceStream("signalr.min.js")
            ?? throw new InvalidOperationException("signalr.min.js is not embedded in the dashboard assembly");
        using var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        return buffer.ToArray();
    });

    public static IEndpointRouteBuilder MapScriptLibraries(this IEndpointRouteBuilder app)
    {
        app.MapGet(SignalRPath, (HttpContext context) =>
        {
            context.Response.Headers.CacheControl = "private, max-age=86400";
            return Results.Bytes(SignalR.Value, "text/javascript");
        }).ExcludeFromDescription();
        return app;
    }
}
