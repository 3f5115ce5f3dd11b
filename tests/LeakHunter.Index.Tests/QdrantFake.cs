using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace LeakHunter.Index.Tests;

/// <summary>
/// Checks every request the client sends and every response it receives against Qdrant's OpenAPI
/// document; the errors collect in <see cref="Errors"/>. Works in front of a live server too.
/// </summary>
public sealed class QdrantSchemaCheckingHandler(HttpMessageHandler inner) : DelegatingHandler(inner)
{
    public ConcurrentQueue<string> Errors { get; } = new();
    public ConcurrentQueue<string> Calls { get; } = new();

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken ct)
    {
        var schema = QdrantSchema.Load();
        var path = request.RequestUri!.AbsolutePath;
        JsonNode? body = request.Content == null ? null : JsonNode.Parse(await request.Content.ReadAsStringAsync(ct));
        Calls.Enqueue($"{request.Method} {path}");
        foreach (var e in schema.ValidateRequest(request.Method.Method, path, body)) Errors.Enqueue(e);
        var response = await base.SendAsync(request, ct);
        var text = await response.Content.ReadAsStringAsync(ct);
        foreach (var e in schema.ValidateResponse(request.Method.Method, path, (int)response.StatusCode, string.IsNullOrEmpty(text) ? null : JsonNode.Parse(text)))
            Errors.Enqueue(e);
        return response;
    }
}

/// <summary>
/// A small in-memory Qdrant on a loopback Kestrel port: enough of collections, upsert, query
/// (cosine / Manhattan on named vectors, must-filters with match value/any), delete and count.
/// It refuses (400, Qdrant's error shape) any request whose body the OpenAPI schema rejects, and
/// checks its own responses against the schema before sending them.
/// </summary>
public sealed class QdrantFake : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, Collection> _collections = new();
    public ConcurrentQueue<string> Errors { get; } = new();

    private sealed class Collection
    {
        public required JsonObject Config;
        public readonly Dictionary<ulong, (Dictionary<string, float[]> Vectors, JsonObject Payload)> Points = new();
    }

    private QdrantFake(WebApplication app) => _app = app;

    public Uri Address => new(_app.Urls.First() + "/");

    public static async Task<QdrantFake> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var fake = new QdrantFake(app);
        app.Run(async ctx =>
        {
            try { await fake.HandleAsync(ctx); }
            catch (Exception e)
            {
                fake.Errors.Enqueue("fake crashed: " + e);
                ctx.Response.StatusCode = 500;
                await ctx.Response.WriteAsync(e.ToString());
            }
        });
        await app.StartAsync();
        return fake;
    }

    private async Task HandleAsync(HttpContext ctx)
    {
        var schema = QdrantSchema.Load();
        var method = ctx.Request.Method;
        var path = ctx.Request.Path.Value!;
        var text = await new StreamReader(ctx.Request.Body).ReadToEndAsync();
        var body = string.IsNullOrEmpty(text) ? null : JsonNode.Parse(text);
        var problems = schema.ValidateRequest(method, path, body);
        int status;
        JsonNode response;
        if (problems.Count > 0)
        {
            foreach (var p in problems) Errors.Enqueue(p);
            (status, response) = (400, Error(string.Join("; ", problems)));
        }
        else
        {
            try { (status, response) = Handle(method, path.Split('/', StringSplitOptions.RemoveEmptyEntries), body); }
            catch (Exception e) { (status, response) = (400, Error(e.Message)); }
        }
        foreach (var p in schema.ValidateResponse(method, path, status, response)) Errors.Enqueue("fake's own " + p);
        ctx.Response.StatusCode = status;
        ctx.Response.ContentType = "application/json";
        await ctx.Response.WriteAsync(response.ToJsonString());
    }

    private static JsonObject Ok(JsonNode? result) => new() { ["result"] = result, ["status"] = "ok", ["time"] = 0.0001 };
    private static JsonObject Error(string message) => new() { ["status"] = new JsonObject { ["error"] = message }, ["time"] = 0.0 };
    private static JsonObject Updated() => Ok(new JsonObject { ["operation_id"] = 1, ["status"] = "completed" });

    private (int, JsonNode) Handle(string method, string[] seg, JsonNode? body)
    {
        if (seg.Length < 2 || seg[0] != "collections") return (404, Error("not found"));
        var name = seg[1];
        var rest = string.Join('/', seg.Skip(2));
        _collections.TryGetValue(name, out var c);
        switch (method, rest)
        {
            case ("GET", "exists"):
                return (200, Ok(new JsonObject { ["exists"] = c != null }));
            case ("PUT", ""):
                if (c != null) return (409, Error($"Collection `{name}` already exists!"));
                _collections[name] = new Collection { Config = body!.AsObject() };
                return (200, Ok(true));
            case ("DELETE", ""):
                return (200, Ok(_collections.TryRemove(name, out _)));
        }
        if (c == null) return (404, Error($"Collection `{name}` doesn't exist!"));
        lock (c)
        {
            switch (method, rest)
            {
                case ("PUT", "index"):
                    return (200, Updated());
                case ("PUT", "points"):
                    foreach (var p in body!["points"]!.AsArray())
                    {
                        var vectors = p!["vector"]!.AsObject().ToDictionary(kv => kv.Key, kv => kv.Value!.AsArray().Select(x => x!.GetValue<float>()).ToArray());
                        foreach (var (vn, v) in vectors)
                        {
                            var size = c.Config["vectors"]?[vn]?["size"]?.GetValue<int>() ?? throw new InvalidOperationException($"Wrong input: Not existing vector name error: {vn}");
                            if (size != v.Length) throw new InvalidOperationException($"Wrong input: Vector dimension error: expected dim: {size}, got {v.Length}");
                        }
                        c.Points[p["id"]!.GetValue<ulong>()] = (vectors, p["payload"]?.AsObject().DeepClone().AsObject() ?? new JsonObject());
                    }
                    return (200, Updated());
                case ("POST", "points/delete"):
                    foreach (var id in body!["points"]!.AsArray()) c.Points.Remove(id!.GetValue<ulong>());
                    return (200, Updated());
                case ("POST", "points/count"):
                    return (200, Ok(new JsonObject { ["count"] = c.Points.Count }));
                case ("POST", "points/query"):
                    return (200, Ok(new JsonObject { ["points"] = Query(c, body!.AsObject()) }));
            }
        }
        return (404, Error($"fake Qdrant does not implement {method} {rest}"));
    }

    private static JsonArray Query(Collection c, JsonObject q)
    {
        var name = q["using"]!.GetValue<string>();
        var query = q["query"]!.AsArray().Select(x => x!.GetValue<float>()).ToArray();
        var distance = c.Config["vectors"]![name]!["distance"]!.GetValue<string>();
        var limit = q["limit"]?.GetValue<int>() ?? 10;
        var threshold = q["score_threshold"]?.GetValue<float>();
        var must = q["filter"]?["must"]?.AsArray() ?? new JsonArray();
        var scored = new List<(ulong Id, float Score, JsonObject Payload)>();
        foreach (var (id, (vectors, payload)) in c.Points)
        {
            if (!vectors.TryGetValue(name, out var v)) continue;
            if (!must.All(m => Matches(m!.AsObject(), payload))) continue;
            float score;
            if (distance == "Cosine")
            {
                double dot = 0, na = 0, nb = 0;
                for (var i = 0; i < v.Length; i++) { dot += v[i] * query[i]; na += v[i] * v[i]; nb += query[i] * query[i]; }
                score = (float)(dot / Math.Sqrt(na * nb));
                if (threshold is { } t && score < t) continue;
            }
            else
            {
                score = v.Zip(query, (a, b) => MathF.Abs(a - b)).Sum();
                if (threshold is { } t && score > t) continue;
            }
            scored.Add((id, score, payload));
        }
        var ordered = distance == "Cosine" ? scored.OrderByDescending(s => s.Score) : scored.OrderBy(s => s.Score);
        return new JsonArray(ordered.Take(limit).Select(s => (JsonNode)new JsonObject
        {
            ["id"] = s.Id,
            ["version"] = 1,
            ["score"] = s.Score,
            ["payload"] = q["with_payload"]?.GetValue<bool>() == true ? s.Payload.DeepClone() : null,
        }).ToArray());
    }

    private static bool Matches(JsonObject condition, JsonObject payload)
    {
        var value = payload[condition["key"]!.GetValue<string>()]?.GetValue<string>();
        var match = condition["match"]!.AsObject();
        if (match["value"] is { } v) return value == v.GetValue<string>();
        if (match["any"] is JsonArray any) return any.Any(a => a!.GetValue<string>() == value);
        throw new InvalidOperationException("fake Qdrant: unsupported match");
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
