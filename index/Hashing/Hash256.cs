using System.Numerics;

namespace LeakHunter.Index.Hashing;

/// <summary>A 256-bit hash (PDQ), stored in the order of its 64-digit hex form.</summary>
public readonly record struct Hash256(ulong A, ulong B, ulong C, ulong D)
{
    public int Distance(in Hash256 other) =>
        BitOperations.PopCount(A ^ other.A) + BitOperations.PopCount(B ^ other.B) +
        BitOperations.PopCount(C ^ other.C) + BitOperations.PopCount(D ^ other.D);

    public string ToHex() => $"{A:x16}{B:x16}{C:x16}{D:x16}";

    public static Hash256 Parse(string hex)
    {
        if (hex.Length != 64)
            throw new FormatException("A 256-bit hash has 64 hex digits.");
        return new Hash256(Convert.ToUInt64(hex[..16], 16), Convert.ToUInt64(hex[16..32], 16),
            Convert.ToUInt64(hex[32..48], 16), Convert.ToUInt64(hex[48..], 16));
    }

    public override string ToString() => ToHex();
}

/// <summary>Hamming distance helpers.</summary>
public static class HashDistance
{
    public static int Hamming(ulong a, ulong b) => BitOperations.PopCount(a ^ b);
}
