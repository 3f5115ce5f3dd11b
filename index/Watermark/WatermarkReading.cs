namespace LeakHunter.Index.Watermark;

/// <summary>
/// What a decoder read. <see cref="Found"/> is true only when the keyed check of the decoded payload holds;
/// then <see cref="Payload"/> is the copy id. <see cref="Confidence"/> (0..1) is the share of coded bits that
/// agree with the decoded codeword, rescaled so that 0 is chance and 1 is a clean read; 0 when not found.
/// <see cref="Mode"/> is "blind" or "informed".
/// </summary>
public sealed record WatermarkReading(bool Found, uint? Payload, double Confidence, string Mode)
{
    public const string Blind = "blind";
    public const string Informed = "informed";
}
