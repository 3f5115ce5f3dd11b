using System.Security.Cryptography;
using System.Text;

namespace LeakHunter.Dashboard.Accounts;

/// <summary>API keys: "lhk_" + 32 random bytes (base64url). Only the SHA-256 is stored; a 128-bit+ random key needs no slow hash.</summary>
public static class ApiKeys
{
    public const string Prefix = "lhk_";

    public static string Generate() =>
        Prefix + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public static string Sha256(string key) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));

    /// <summary>What a list of keys shows: the first characters, enough to tell keys apart, too few to use.</summary>
    public static string DisplayPrefix(string key) => key[..Math.Min(key.Length, Prefix.Length + 6)] + "…";
}
