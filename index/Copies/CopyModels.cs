namespace LeakHunter.Index.Copies;

/// <summary>
/// A per-recipient copy of an original. <see cref="CopyId"/> is the watermark payload (a random
/// 32-bit number) written as 8 hex digits.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record CopyInfo(
    [property: Id(0)] string CopyId,
    [property: Id(1)] string OriginalId,
    [property: Id(2)] string Recipient,
    [property: Id(3)] string? Note,
    [property: Id(4)] string MediaType,
    [property: Id(5)] DateTimeOffset CreatedAt)
{
    public uint Payload => Convert.ToUInt32(CopyId, 16);

    public static string IdOf(uint payload) => payload.ToString("x8");
}

/// <summary>What to write into a copy besides the watermark.</summary>
[GenerateSerializer, Immutable]
public sealed record CopyRequest(
    [property: Id(0)] string Recipient,
    [property: Id(1)] string? Note,
    [property: Id(2)] string DataMining,
    [property: Id(3)] string? Copyright,
    [property: Id(4)] string? Creator);

/// <summary>Which recipient's copy a found image came from, read from its watermark.</summary>
[GenerateSerializer, Immutable]
public sealed record Attribution(
    [property: Id(0)] string CopyId,
    [property: Id(1)] string Recipient,
    [property: Id(2)] double Confidence,
    [property: Id(3)] string Mode);

/// <summary>The PLUS "Data Mining" values (https://ns.useplus.org/LDF/ldf-XMPSpecification#DataMining).</summary>
public static class PlusDataMining
{
    public const string Prohibited = "DMI-PROHIBITED";

    public static readonly IReadOnlySet<string> Values = new HashSet<string>(StringComparer.Ordinal)
    {
        "DMI-UNSPECIFIED", "DMI-ALLOWED", "DMI-ALLOWED-noncommercial", "DMI-PROHIBITED-AIMLTRAINING",
        "DMI-PROHIBITED-GENAIMLTRAINING", "DMI-PROHIBITED-EXCEPTSEARCHENGINEINDEXING", "DMI-PROHIBITED",
        "DMI-PROHIBITED-SEECONSTRAINT", "DMI-PROHIBITED-SEEEMBEDDEDRIGHTSEXPR", "DMI-PROHIBITED-SEELINKEDRIGHTSEXPR",
    };
}
