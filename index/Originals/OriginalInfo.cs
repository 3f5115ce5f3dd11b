namespace LeakHunter.Index.Originals;

/// <summary>A registered original as the API and dashboard show it.</summary>
[GenerateSerializer, Immutable]
public sealed record OriginalInfo(
    [property: Id(0)] string Id,
    [property: Id(1)] string Title,
    [property: Id(2)] string FileName,
    [property: Id(3)] int Width,
    [property: Id(4)] int Height,
    [property: Id(5)] string Sha256,
    [property: Id(6)] string MediaType,
    [property: Id(7)] DateTimeOffset RegisteredAt);

/// <summary>One file handed in for registration.</summary>
[GenerateSerializer, Immutable]
public sealed record OriginalUpload(
    [property: Id(0)] string FileName,
    [property: Id(1)] string? Title,
    [property: Id(2)] byte[] Bytes);

/// <summary>Why one file of an upload was refused.</summary>
[GenerateSerializer, Immutable]
public sealed record RefusedUpload(
    [property: Id(0)] string FileName,
    [property: Id(1)] string Reason);

/// <summary>
/// The result of registering a batch: either every file was registered, or none was and
/// <see cref="Refused"/> says why for each refused file (a batch is all or nothing).
/// </summary>
[GenerateSerializer, Immutable]
public sealed record RegistrationOutcome(
    [property: Id(0)] IReadOnlyList<OriginalInfo> Registered,
    [property: Id(1)] IReadOnlyList<RefusedUpload> Refused);
