using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace LeakHunter.Index.Tests;

/// <summary>
/// A JSON-schema checker for the subset Qdrant's OpenAPI 3.0 document uses ($ref, type, properties,
/// required, additionalProperties, items, enum, anyOf/oneOf/allOf, nullable, minimum/maximum,
/// minLength, minItems, unsigned formats), driven by ../shared/qdrant/openapi.json.
/// </summary>
public sealed class QdrantSchema
{
    private readonly JsonElement _root;
    private readonly List<(string Method, Regex Path, string Template, JsonElement Operation)> _operations = new();

    private QdrantSchema(JsonElement root)
    {
        _root = root;
        foreach (var path in root.GetProperty("paths").EnumerateObject())
        {
            var regex = new Regex("^" + Regex.Replace(Regex.Escape(path.Name), @"\\\{[^}]+}", "[^/]+") + "$");
            foreach (var op in path.Value.EnumerateObject())
                _operations.Add((op.Name.ToUpperInvariant(), regex, path.Name, op.Value));
        }
    }

    private static readonly Lazy<QdrantSchema> Shared = new(() =>
        new QdrantSchema(JsonDocument.Parse(File.ReadAllText(Locate())).RootElement.Clone()));

    public static QdrantSchema Load() => Shared.Value;

    private static string Locate()
    {
        var env = Environment.GetEnvironmentVariable("QDRANT_OPENAPI");
        if (!string.IsNullOrEmpty(env)) return env;
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
        {
            foreach (var candidate in new[] { Path.Combine(dir.FullName, "shared", "qdrant", "openapi.json"), Path.Combine(dir.FullName, "..", "shared", "qdrant", "openapi.json") })
                if (File.Exists(candidate)) return candidate;
        }
        const string fallback = "/work/shared/qdrant/openapi.json";
        return File.Exists(fallback) ? fallback : throw new FileNotFoundException("Qdrant's openapi.json not found (set QDRANT_OPENAPI)");
    }

    /// <summary>The operation for method + path (without query), or null when the API has none.</summary>
    public (string Template, JsonElement Operation)? Find(string method, string path)
    {
        foreach (var (m, regex, template, op) in _operations)
            if (m == method.ToUpperInvariant() && regex.IsMatch(path)) return (template, op);
        return null;
    }

    /// <summary>Errors of a request body against the operation's request schema (strict: unknown properties are errors).</summary>
    public List<string> ValidateRequest(string method, string path, JsonNode? body)
    {
        body = Reparse(body);
        var found = Find(method, path);
        if (found is not { } f) return [$"{method} {path}: no such operation in Qdrant's API"];
        var errors = new List<string>();
        if (f.Operation.TryGetProperty("requestBody", out var rb))
        {
            var schema = rb.GetProperty("content").GetProperty("application/json").GetProperty("schema");
            if (body == null)
            {
                if (rb.TryGetProperty("required", out var req) && req.GetBoolean()) errors.Add($"{method} {f.Template}: body required");
            }
            else Validate(schema, body, "$", errors, strict: true);
        }
        else if (body != null) errors.Add($"{method} {f.Template}: the operation takes no body");
        return errors.Select(e => $"{method} {f.Template} request: {e}").ToList();
    }

    /// <summary>Errors of a response body against the operation's schema for this status code.</summary>
    public List<string> ValidateResponse(string method, string path, int status, JsonNode? body)
    {
        body = Reparse(body);
        var found = Find(method, path);
        if (found is not { } f) return [$"{method} {path}: no such operation in Qdrant's API"];
        var responses = f.Operation.GetProperty("responses");
        var key = status.ToString(CultureInfo.InvariantCulture);
        if (!responses.TryGetProperty(key, out var resp) && !responses.TryGetProperty($"{status / 100}XX", out resp) && !responses.TryGetProperty("default", out resp))
            return [$"{method} {f.Template}: status {status} not described"];
        if (!resp.TryGetProperty("content", out var content)) return [];
        var errors = new List<string>();
        Validate(content.GetProperty("application/json").GetProperty("schema"), body, "$", errors, strict: false);
        return errors.Select(e => $"{method} {f.Template} response {status}: {e}").ToList();
    }

    /// <summary>Nodes built in code hold CLR values; parse them back so every number reads as any numeric type.</summary>
    private static JsonNode? Reparse(JsonNode? node) => node == null ? null : JsonNode.Parse(node.ToJsonString());

    private JsonElement Resolve(JsonElement schema)
    {
        while (schema.TryGetProperty("$ref", out var r))
        {
            var parts = r.GetString()!.TrimStart('#', '/').Split('/');
            var e = _root;
            foreach (var p in parts) e = e.GetProperty(p);
            schema = e;
        }
        return schema;
    }

    /// <summary>Validates value against schema, appending errors; returns whether it is valid.</summary>
    public bool Validate(JsonElement schema, JsonNode? value, string at, List<string> errors, bool strict)
    {
        schema = Resolve(schema);
        var before = errors.Count;
        var nullable = schema.TryGetProperty("nullable", out var nb) && nb.GetBoolean();
        if (value == null)
        {
            // {"nullable": true} alone (Qdrant's "or null" branch) accepts only null; a typed schema needs nullable.
            var typed = schema.TryGetProperty("type", out _) || schema.TryGetProperty("properties", out _) || schema.TryGetProperty("enum", out _);
            if (nullable || (!typed && !schema.TryGetProperty("anyOf", out _) && !schema.TryGetProperty("oneOf", out _) && !schema.TryGetProperty("allOf", out _)))
                return true;
        }
        else if (nullable && schema.EnumerateObject().All(p => p.Name is "nullable" or "description" or "default"))
        {
            errors.Add($"{at}: expected null");
            return false;
        }

        if (schema.TryGetProperty("anyOf", out var anyOf) && !Branches(anyOf, value, at, errors, strict, exactlyOne: false)) return false;
        if (schema.TryGetProperty("oneOf", out var oneOf) && !Branches(oneOf, value, at, errors, strict, exactlyOne: true)) return false;
        if (schema.TryGetProperty("allOf", out var allOf))
            foreach (var s in allOf.EnumerateArray()) Validate(s, value, at, errors, strict);

        if (schema.TryGetProperty("type", out var typeEl))
        {
            var type = typeEl.GetString();
            if (!TypeMatches(type!, value))
            {
                errors.Add($"{at}: expected {type}, got {Describe(value)}");
                return false;
            }
        }
        if (value is JsonValue v && schema.TryGetProperty("enum", out var en))
        {
            var text = v.ToJsonString();
            if (!en.EnumerateArray().Any(e => e.GetRawText() == text)) errors.Add($"{at}: {text} is not one of {en.GetRawText()}");
        }
        if (value is JsonValue num && num.GetValueKind() == JsonValueKind.Number)
        {
            var d = num.GetValue<double>();
            if (schema.TryGetProperty("minimum", out var min) && d < min.GetDouble()) errors.Add($"{at}: {d} < minimum {min.GetDouble()}");
            if (schema.TryGetProperty("maximum", out var max) && d > max.GetDouble()) errors.Add($"{at}: {d} > maximum {max.GetDouble()}");
            if (schema.TryGetProperty("format", out var fmt) && fmt.GetString()!.StartsWith("uint", StringComparison.Ordinal) && d < 0)
                errors.Add($"{at}: {d} is negative but the format is {fmt.GetString()}");
        }
        if (value is JsonValue str && str.GetValueKind() == JsonValueKind.String && schema.TryGetProperty("minLength", out var ml) && str.GetValue<string>().Length < ml.GetInt32())
            errors.Add($"{at}: shorter than {ml.GetInt32()}");
        if (value is JsonArray arr)
        {
            if (schema.TryGetProperty("minItems", out var mi) && arr.Count < mi.GetInt32()) errors.Add($"{at}: fewer than {mi.GetInt32()} items");
            if (schema.TryGetProperty("items", out var items))
                for (var i = 0; i < arr.Count; i++) Validate(items, arr[i], $"{at}[{i}]", errors, strict);
        }
        if (value is JsonObject obj)
        {
            var props = schema.TryGetProperty("properties", out var p) ? p : default;
            if (schema.TryGetProperty("required", out var req))
                foreach (var r in req.EnumerateArray())
                    if (!obj.ContainsKey(r.GetString()!)) errors.Add($"{at}: missing required property '{r.GetString()}'");
            var hasAdditional = schema.TryGetProperty("additionalProperties", out var additional);
            foreach (var (name, child) in obj)
            {
                if (props.ValueKind == JsonValueKind.Object && props.TryGetProperty(name, out var ps))
                    Validate(ps, child, $"{at}.{name}", errors, strict);
                else if (hasAdditional && additional.ValueKind == JsonValueKind.False)
                    errors.Add($"{at}: property '{name}' is not allowed");
                else if (hasAdditional && additional.ValueKind == JsonValueKind.Object)
                    Validate(additional, child, $"{at}.{name}", errors, strict);
                else if (strict && props.ValueKind == JsonValueKind.Object)
                    errors.Add($"{at}: unknown property '{name}'");
            }
        }
        return errors.Count == before;
    }

    private bool Branches(JsonElement branches, JsonNode? value, string at, List<string> errors, bool strict, bool exactlyOne)
    {
        var valid = 0;
        var branchErrors = new List<string>();
        foreach (var b in branches.EnumerateArray())
        {
            var e = new List<string>();
            if (Validate(b, value, at, e, strict)) valid++;
            else branchErrors.Add(string.Join("; ", e.Take(2)));
        }
        if (valid == 0) { errors.Add($"{at}: matches none of {(exactlyOne ? "oneOf" : "anyOf")} ({string.Join(" | ", branchErrors)})"); return false; }
        if (exactlyOne && valid > 1) { errors.Add($"{at}: matches {valid} oneOf branches"); return false; }
        return true;
    }

    private static bool TypeMatches(string type, JsonNode? value) => type switch
    {
        "object" => value is JsonObject,
        "array" => value is JsonArray,
        "string" => value is JsonValue s && s.GetValueKind() == JsonValueKind.String,
        "boolean" => value is JsonValue b && b.GetValueKind() is JsonValueKind.True or JsonValueKind.False,
        "number" => value is JsonValue n && n.GetValueKind() == JsonValueKind.Number,
        "integer" => value is JsonValue i && i.GetValueKind() == JsonValueKind.Number && Math.Abs(i.GetValue<double>() % 1) == 0,
        _ => true,
    };

    private static string Describe(JsonNode? v) => v switch
    {
        null => "null",
        JsonObject => "object",
        JsonArray => "array",
        JsonValue jv => jv.GetValueKind().ToString().ToLowerInvariant() + " " + Truncate(jv.ToJsonString()),
        _ => "?",
    };

    private static string Truncate(string s) => s.Length > 40 ? s[..40] + "…" : s;
}
