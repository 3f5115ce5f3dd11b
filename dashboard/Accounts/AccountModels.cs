namespace LeakHunter.Dashboard.Accounts;

/// <summary>A person who can log in. <see cref="PasswordHash"/> is a <see cref="PasswordHasher"/> record, never the password.</summary>
[GenerateSerializer, Immutable]
public sealed record UserRecord(
    [property: Id(0)] string Id,
    [property: Id(1)] string Username,
    [property: Id(2)] string PasswordHash,
    [property: Id(3)] string WorkspaceId,
    [property: Id(4)] bool IsAdmin,
    [property: Id(5)] DateTimeOffset CreatedAt);

[GenerateSerializer, Immutable]
public sealed record WorkspaceRecord(
    [property: Id(0)] string Id,
    [property: Id(1)] string Name,
    [property: Id(2)] DateTimeOffset CreatedAt);

/// <summary>A workspace API key: only its SHA-256 is kept; <see cref="Prefix"/> lets people tell keys apart.</summary>
[GenerateSerializer, Immutable]
public sealed record ApiKeyRecord(
    [property: Id(0)] string Id,
    [property: Id(1)] string WorkspaceId,
    [property: Id(2)] string Name,
    [property: Id(3)] string Prefix,
    [property: Id(4)] string Sha256,
    [property: Id(5)] DateTimeOffset CreatedAt,
    [property: Id(6)] DateTimeOffset? RevokedAt);

[GenerateSerializer, Immutable]
public sealed record AccountOutcome(
    [property: Id(0)] UserRecord? User,
    [property: Id(1)] string? Error);
