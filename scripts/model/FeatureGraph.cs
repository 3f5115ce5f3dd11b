namespace LeakHunter.ModelBuilder;

/// <summary>
/// The fixed (not learned) part of the copy-detection encoder, as ONNX nodes: luminance and
/// opponent colour, a bank of Gabor quadrature pairs at two scales turned into oriented energy,
/// overlapping average pooling on 8×8 and 4×4 grids, a mean-free luminance thumbnail and a coarse
/// colour layout; each block square-rooted (energies) and L2-normalised, then concatenated.
/// </summary>
public static class FeatureGraph
{
    public const int Size = 128;
    public const string Input = "pixels";

    /// <summary>Adds the feature nodes; returns the name of the [N, Dim] feature tensor.</summary>
    public static string Build(OnnxGraph g, out int dim)
    {
        g.Input(Input, "N", 3, Size, Size);
        var y = g.Node("Conv", [Input, g.Constant("wy", [0.299f, 0.587f, 0.114f], 1, 3, 1, 1)]);
        var c = g.Node("Conv", [Input, g.Constant("wc", [0.5f, -0.5f, 0f, 0.25f, 0.25f, -0.5f], 2, 3, 1, 1)]);
        var bank = GaborBank(out var pairs);
        var wg = g.Constant("gabor", bank, pairs * 2, 1, 7, 7);
        var sum = new float[pairs * pairs * 2];
        for (var p = 0; p < pairs; p++) { sum[p * pairs * 2 + 2 * p] = 1; sum[p * pairs * 2 + 2 * p + 1] = 1; }
        var wsum = g.Constant("pairsum", sum, pairs, pairs * 2, 1, 1);
        var eps = g.Constant("eps", [1e-6f], 1);

        string Energy(string src, long stride)
        {
            var resp = g.Node("Conv", [src, wg], new() { ["pads"] = new long[] { 3, 3, 3, 3 }, ["strides"] = new[] { stride, stride } });
            var sq = g.Node("Mul", [resp, resp]);
            var e = g.Node("Conv", [sq, wsum]);
            return g.Node("Sqrt", [g.Node("Add", [e, eps])]);
        }
        string Pool(string src, long k, long s, long p) => g.Node("AveragePool", [src], new()
        {
            ["kernel_shape"] = new[] { k, k }, ["strides"] = new[] { s, s }, ["pads"] = new[] { p, p, p, p },
        });
        string Block(string src, bool sqrt)
        {
            var f = g.Node("Flatten", [src], new() { ["axis"] = 1L });
            if (sqrt) f = g.Node("Sqrt", [g.Node("Add", [f, eps])]);
            var norm = g.Node("ReduceL2", [f], new() { ["axes"] = new long[] { 1 }, ["keepdims"] = 1L });
            return g.Node("Div", [f, g.Node("Add", [norm, eps])]);
        }

        var e1 = Energy(y, 2);                                   // [N,P,64,64]
        var y2 = Pool(y, 4, 4, 0);                               // [N,1,32,32]
        var e2 = Energy(y2, 1);                                  // [N,P,32,32]
        var b1 = Block(Pool(e1, 16, 8, 4), true);                // P×8×8
        var b2 = Block(Pool(e1, 32, 16, 8), true);               // P×4×4
        var b3 = Block(Pool(e2, 16, 8, 4), true);                // P×4×4
        var thumb = Pool(y, 32, 16, 8);                          // 1×8×8
        var thumbMean = g.Node("ReduceMean", [thumb], new() { ["axes"] = new long[] { 1, 2, 3 }, ["keepdims"] = 1L });
        var b4 = Block(g.Node("Sub", [thumb, thumbMean]), false);
        var b5 = Block(Pool(c, 64, 32, 16), false);              // 2×4×4
        dim = pairs * 64 + pairs * 16 + pairs * 16 + 64 + 32;
        return g.Node("Concat", [b1, b2, b3, b4, b5], new() { ["axis"] = 1L }, "features");
    }

    /// <summary>Even/odd Gabor pairs, 4 orientations × 2 wavelengths, zero mean, unit norm.</summary>
    private static float[] GaborBank(out int pairs)
    {
        var wavelengths = new[] { 3.5, 6.0 };
        const int orientations = 4, k = 7;
        pairs = wavelengths.Length * orientations;
        var bank = new float[pairs * 2 * k * k];
        var f = 0;
        foreach (var lambda in wavelengths)
            for (var o = 0; o < orientations; o++)
            {
                var theta = Math.PI * o / orientations;
                var sigma = 0.5 * lambda;
                for (var phase = 0; phase < 2; phase++, f++)
                {
                    var w = new double[k * k];
                    for (var yy = 0; yy < k; yy++)
                        for (var xx = 0; xx < k; xx++)
                        {
                            double x = xx - k / 2, y = yy - k / 2;
                            var xr = x * Math.Cos(theta) + y * Math.Sin(theta);
                            var env = Math.Exp(-(x * x + y * y) / (2 * sigma * sigma));
                            w[yy * k + xx] = env * (phase == 0 ? Math.Cos(2 * Math.PI * xr / lambda) : Math.Sin(2 * Math.PI * xr / lambda));
                        }
                    var mean = w.Average();
                    for (var i = 0; i < w.Length; i++) w[i] -= mean;
                    var norm = Math.Sqrt(w.Sum(v => v * v));
                    for (var i = 0; i < w.Length; i++) bank[f * k * k + i] = (float)(w[i] / norm);
                }
            }
        return bank;
    }
}
