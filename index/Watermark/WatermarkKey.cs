using System.Security.Cryptography;
using System.Text;

namespace LeakHunter.Index.Watermark;

/// <summary>
/// The deployment secret that keys the watermark: 32 bytes. Every pattern, permutation and check bit
/// is derived from it, so without it nobody can read or forge a mark. The bytes are never printed:
/// <see cref="ToString"/> shows only a short fingerprint (a hash, not the key).
/// </summary>
public sealed class WatermarkKey
{
    public const int Length = 32;
    private readonly byte[] _key;

    private WatermarkKey(byte[] key) => _key = key;

    /// <summary>Exactly 32 bytes of secret.</summary>
    public static WatermarkKey FromBytes(ReadOnlySpan<byte> key)
    {
        if (key.Length != Length)
            throw new ArgumentException($"a watermark key is {Length} bytes, not {key.Length}", nameof(key));
        return new WatermarkKey(key.ToArray());
    }

    /// <summary>
    /// Parses a key given as text: 64 hex digits or base64 of 32 bytes (whitespace ignored).
    /// Used for configuration (<c>Watermark:Key</c>).
    /// </summary>
    public static WatermarkKey Parse(string text)
    {
        var t = new string(text.Where(c => !char.IsWhiteSpace(c)).ToArray());
        if (t.Length == 2 * Length && t.All(Uri.IsHexDigit))
            return new WatermarkKey(Convert.FromHexString(t));
        try
        {
            var b = Convert.FromBase64String(t);
            if (b.Length == Length) return new WatermarkKey(b);
        }
        catch (FormatException)
        {
        }
        throw new FormatException($"a watermark key is {Length} bytes: 64 hex digits or base64");
    }

    /// <summary>
    /// Reads a key file: either exactly 32 raw bytes, or text holding 64 hex digits or base64 of 32 bytes.
    /// </summary>
    public static WatermarkKey FromFile(string path)
    {
        var bytes = File.ReadAllBytes(path);
        if (bytes.Length == Length) return new WatermarkKey(bytes);
        string text;
        try
        {
            text = new UTF8Encoding(false, true).GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            throw new FormatException($"key file is {bytes.Length} bytes; expected {Length} raw bytes, 64 hex digits or base64");
        }
        try
        {
            return Parse(text);
        }
        catch (FormatException)
        {
            throw new FormatException($"key file is {bytes.Length} bytes; expected {Length} raw bytes, 64 hex digits or base64");
        }
    }

    /// <summary>A fresh random key (for tests and first-time setup).</summary>
    public static WatermarkKey Generate() => new(RandomNumberGenerator.GetBytes(Length));

    /// <summary>A sub-key for one purpose: HMAC-SHA256(key, label).</summary>
    internal byte[] Derive(string label) => HMACSHA256.HashData(_key, Encoding.UTF8.GetBytes(label));

    /// <summary>Keyed check of a payload: HMAC-SHA256 under a derived key, truncated.</summary>
    internal uint Mac(uint payload)
    {
        Span<byte> msg = stackalloc byte[4];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(msg, payload);
        var h = HMACSHA256.HashData(Derive("leakhunter/watermark/v1/mac"), msg);
        return System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(h);
    }

    /// <summary>A non-secret identifier of the key (first bytes of a hash of a derived value).</summary>
    public string Fingerprint => Convert.ToHexString(SHA256.HashData(Derive("leakhunter/watermark/v1/fingerprint")).AsSpan(0, 4)).ToLowerInvariant();

    public override string ToString() => $"WatermarkKey({Fingerprint})";
}
