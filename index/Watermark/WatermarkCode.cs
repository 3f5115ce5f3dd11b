namespace LeakHunter.Index.Watermark;

/// <summary>
/// The channel code of the mark: 32 payload bits + 32 keyed check bits (truncated HMAC-SHA256), whitened
/// with a key-derived mask, then a rate-1/3 convolutional code (constraint length 7, generators 133/171/165
/// octal, zero-tailed) decoded with a soft-decision Viterbi decoder.
/// </summary>
internal static class WatermarkCode
{
    public const int InfoBits = 64;
    public const int PayloadBits = 32;
    private const int K = 7;
    private const int States = 1 << (K - 1);
    private const int Rate = 3;
    private static readonly int[] Generators = [0x5B /*133*/, 0x79 /*171*/, 0x75 /*165*/];
    public const int CodedBits = (InfoBits + K - 1) * Rate; // 210

    private static readonly byte[,] Outputs = BuildOutputs();

    private static byte[,] BuildOutputs()
    {
        // Outputs[state, input] as a 3-bit mask; register = (input << 6) | state, state holds the last 6 inputs.
        var o = new byte[States, 2];
        for (var s = 0; s < States; s++)
        for (var b = 0; b < 2; b++)
        {
            var reg = (b << (K - 1)) | s;
            var m = 0;
            for (var g = 0; g < Rate; g++)
                m |= (System.Numerics.BitOperations.PopCount((uint)(reg & Generators[g])) & 1) << g;
            o[s, b] = (byte)m;
        }
        return o;
    }

    private static int Next(int state, int bit) => ((bit << (K - 1)) | state) >> 1;

    /// <summary>The 64 information bits for a payload under a key (payload, then its MAC, XOR a key mask).</summary>
    public static bool[] InfoFor(uint payload, WatermarkKey key, ulong whitening)
    {
        var word = payload | ((ulong)key.Mac(payload) << 32);
        word ^= whitening;
        var bits = new bool[InfoBits];
        for (var i = 0; i < InfoBits; i++) bits[i] = ((word >> i) & 1) != 0;
        return bits;
    }

    /// <summary>Un-whitens 64 decoded bits; true when the check matches the payload under the key.</summary>
    public static bool Check(bool[] info, WatermarkKey key, ulong whitening, out uint payload)
    {
        ulong word = 0;
        for (var i = 0; i < InfoBits; i++) if (info[i]) word |= 1UL << i;
        word ^= whitening;
        payload = (uint)word;
        return key.Mac(payload) == (uint)(word >> 32);
    }

    public static bool[] Encode(bool[] info)
    {
        var coded = new bool[CodedBits];
        var state = 0;
        var n = 0;
        for (var i = 0; i < InfoBits + K - 1; i++)
        {
            var b = i < InfoBits && info[i] ? 1 : 0;
            var o = Outputs[state, b];
            for (var g = 0; g < Rate; g++) coded[n++] = ((o >> g) & 1) != 0;
            state = Next(state, b);
        }
        return coded;
    }

    /// <summary>
    /// Soft-decision Viterbi: soft[i] &gt; 0 means coded bit i is likely 1. Maximises the correlation metric.
    /// </summary>
    public static bool[] Decode(ReadOnlySpan<double> soft)
    {
        if (soft.Length != CodedBits) throw new ArgumentException("wrong number of soft bits");
        var steps = InfoBits + K - 1;
        var metric = new double[States];
        var next = new double[States];
        Array.Fill(metric, double.NegativeInfinity);
        metric[0] = 0;
        var from = new byte[steps, States];
        var bitIn = new byte[steps, States];
        for (var t = 0; t < steps; t++)
        {
            Array.Fill(next, double.NegativeInfinity);
            var s0 = soft[t * Rate];
            var s1 = soft[t * Rate + 1];
            var s2 = soft[t * Rate + 2];
            var maxBit = t < InfoBits ? 1 : 0;
            for (var s = 0; s < States; s++)
            {
                var m = metric[s];
                if (double.IsNegativeInfinity(m)) continue;
                for (var b = 0; b <= maxBit; b++)
                {
                    var o = Outputs[s, b];
                    var bm = ((o & 1) != 0 ? s0 : -s0) + ((o & 2) != 0 ? s1 : -s1) + ((o & 4) != 0 ? s2 : -s2);
                    var ns = Next(s, b);
                    var cand = m + bm;
                    if (cand > next[ns])
                    {
                        next[ns] = cand;
                        from[t, ns] = (byte)s;
                        bitIn[t, ns] = (byte)b;
                    }
                }
            }
            (metric, next) = (next, metric);
        }
        var info = new bool[InfoBits];
        var st = 0; // zero-tailed: ends in state 0
        for (var t = steps - 1; t >= 0; t--)
        {
            if (t < InfoBits) info[t] = bitIn[t, st] != 0;
            st = from[t, st];
        }
        return info;
    }
}
