using System.Security.Cryptography;
using LeakHunter.Index.Imaging;

namespace LeakHunter.Index.Hashing;

/// <summary>The hashes of one image file: SHA-256 of the bytes, PDQ (with quality) and pHash of the full-resolution picture.</summary>
public sealed record ImageHashes(string Sha256, PdqResult Pdq, ulong PHash)
{
    public static ImageHashes Compute(byte[] bytes, long maxPixels = ImageDecoder.DefaultMaxPixels)
    {
        using var img = ImageDecoder.Decode(bytes, maxPixels);
        return new ImageHashes(Convert.ToHexStringLower(SHA256.HashData(bytes)), Hashing.Pdq.Compute(img.Bgr), Hashing.PHash.Compute(img.Bgr));
    }
}
