using OpenCvSharp;

namespace LeakHunter.Index.Watermark;

/// <summary>
/// Reads the mark. Both decoders bring the picture onto the mark frame, whiten it (remove the picture's own
/// content as far as possible), fold it onto one 64x64 tile (summing all repetitions), find the tile's phase
/// by correlating with the key's synchronisation chips, despread the 210 coded bits, run the Viterbi decoder
/// and accept the payload only when its keyed check holds.
/// <list type="bullet">
/// <item>Blind: the scale is taken first as the picture's own (resized copies) and otherwise estimated from
/// the autocorrelation of the whitened picture, whose periodic peaks give the tile's period (cropped and
/// rescaled copies); the phase comes from the synchronisation chips; the mirror image is tried too.</item>
/// <item>Informed: the found picture is warped back onto the original with a homography, the original is
/// subtracted (after a gain/offset fit for colour changes), and the rest is decoded at the original's known
/// layout. Registrations are tried cheapest first until one decodes: the given homography; the whole picture
/// scaled, mirrored, or turned a little about its middle; ORB matches (homography and similarity RANSAC, the
/// mirror image too); a multi-scale correlation search (the original inside a screenshot, or a crop of it);
/// SIFT matches; an ECC search over start angles; finally blind decoding. Each rough registration that does
/// not decode as it is gets refined by ECC (see <see cref="WatermarkGeometry"/>), and the refined one, if it
/// still does not decode, replaced by the similarities from each of its rows.</item>
/// </list>
/// </summary>
public static class WatermarkDecoder
{
    private const int P = WatermarkLayout.Size;

    public static WatermarkReading DecodeBlind(byte[] image, WatermarkKey key)
    {
        using var g = WatermarkImage.DecodeGrayForFrame(image);
        return DecodeBlind(g, key).Reading;
    }

    /// <param name="homography">Optional 3x3 row-major homography mapping query pixels to original pixels.</param>
    public static WatermarkReading DecodeInformed(byte[] image, byte[] original, WatermarkKey key, double[]? homography = null)
    {
        using var q = WatermarkImage.DecodeGray(image);
        using var o = WatermarkImage.DecodeGray(original);
        return DecodeInformed(q, o, key, homography).Reading;
    }

    internal sealed record Result(WatermarkReading Reading, uint RawPayload, double SyncZ);

    private sealed record Attempt(double Z, int Ox, int Oy, double Fx, double Fy, double Scale, bool Flip, Mat Residual)
    {
        public float[]? Tile { get; init; }
    }

    // ---------------------------------------------------------------- blind

    internal static Result DecodeBlind(Mat gray8, WatermarkKey key)
    {
        var layout = WatermarkLayout.For(key);
        var fs = WatermarkImage.FrameSize(gray8.Cols, gray8.Rows);
        using var frame = ToFrame(gray8, fs);
        using var r = Whiten(frame);
        using var rf = new Mat();
        Cv2.Flip(r, rf, FlipMode.Y);
        Result? best = null;

        // 1) Same scale as embedded (untouched or resized copies).
        var first = new List<Attempt>();
        foreach (var flip in new[] { false, true })
        foreach (var s in new[] { 1.0, 0.997, 1.003 })
            first.Add(Evaluate(flip ? rf : r, s, flip, layout));
        foreach (var a in first.OrderByDescending(a => a.Z).Take(2))
        {
            var res = Finish(a, layout, key, WatermarkReading.Blind);
            if (res.Reading.Found) return res;
            if (best is null || res.SyncZ > best.SyncZ) best = res;
        }

        // 2) Other scales (cropped, rescaled copies): periods from the autocorrelation.
        var periods = CandidatePeriods(r);
        if (Environment.GetEnvironmentVariable("WM_DEBUG") == "1")
            Console.Error.WriteLine("periods: " + string.Join(" ", periods.Select(p => p.ToString("F2"))));
        var second = new List<Attempt>();
        foreach (var p in periods)
        {
            var s0 = P / p;
            if (Math.Abs(s0 - 1) < 0.004) continue;
            foreach (var flip in new[] { false, true })
            {
                Attempt? bestHere = null;
                foreach (var d in new[] { -0.004, -0.002, 0.0, 0.002, 0.004 })
                {
                    var a = Evaluate(flip ? rf : r, s0 * (1 + d), flip, layout);
                    if (bestHere is null || a.Z > bestHere.Z) bestHere = a;
                }
                second.Add(bestHere!);
            }
        }
        foreach (var a in second.OrderByDescending(a => a.Z).Take(4))
        {
            if (Environment.GetEnvironmentVariable("WM_DEBUG") == "1")
                Console.Error.WriteLine($"try s={a.Scale:F4} flip={a.Flip} z={a.Z:F1}");
            var res = Finish(a, layout, key, WatermarkReading.Blind);
            if (res.Reading.Found) return res;
            if (best is null || res.SyncZ > best.SyncZ) best = res;
        }
        // 3) Exhaustive scale sweep (crops keep the pixel scale: tile period grows by up to 2x), unmirrored.
        var sweep = new List<Attempt>();
        for (var s = 1.0 / 1.004; s > 0.48; s /= 1.004)
        {
            var a = Evaluate(r, s, false, layout);
            sweep.Add(a);
            if (sweep.Count > 3)
            {
                var worst = sweep.MinBy(x => x.Z)!;
                worst.Residual.Dispose();
                sweep.Remove(worst);
            }
        }
        foreach (var a in sweep.OrderByDescending(a => a.Z).Take(3))
        {
            var res = Finish(a, layout, key, WatermarkReading.Blind);
            if (res.Reading.Found) { DisposeAll(sweep); return res; }
            if (best is null || res.SyncZ > best.SyncZ) best = res;
        }
        DisposeAll(sweep);
        return best ?? new Result(new WatermarkReading(false, null, 0, WatermarkReading.Blind), 0, 0);
    }

    private static void DisposeAll(List<Attempt> list)
    {
        foreach (var a in list) a.Residual.Dispose();
    }

    private static Mat ToFrame(Mat gray8, Size fs)
    {
        using var f = new Mat();
        gray8.ConvertTo(f, MatType.CV_32F);
        var m = new Mat();
        var down = fs.Width < gray8.Cols;
        Cv2.Resize(f, m, fs, 0, 0, down ? InterpolationFlags.Area : InterpolationFlags.Linear);
        return m;
    }

    /// <summary>High-pass and local contrast normalisation, clipped: what is left is mostly the mark.</summary>
    private static Mat Whiten(Mat frame, Mat? valid = null)
    {
        var r = new Mat();
        using (var b = new Mat())
        {
            Cv2.GaussianBlur(frame, b, new Size(0, 0), 1.5);
            Cv2.Subtract(frame, b, r);
        }
        using (var v = new Mat())
        {
            Cv2.Multiply(r, r, v);
            Cv2.GaussianBlur(v, v, new Size(0, 0), 4);
            Cv2.Add(v, new Scalar(1.0), v);
            Cv2.Sqrt(v, v);
            Cv2.Divide(r, v, r);
        }
        Cv2.Min(r, new Scalar(3.0), r);
        Cv2.Max(r, new Scalar(-3.0), r);
        if (valid is not null) Cv2.Multiply(r, valid, r);
        return r;
    }

    /// <summary>Resamples the residual by <paramref name="s"/> (tile period becomes 64), folds and finds the phase.</summary>
    private static Attempt Evaluate(Mat r, double s, bool flip, WatermarkLayout layout, double tx = 0, double ty = 0)
    {
        Mat w;
        if (s == 1 && tx == 0 && ty == 0) w = r.Clone();
        else
        {
            w = new Mat();
            using var m = new Mat(2, 3, MatType.CV_64F);
            m.Set(0, 0, s); m.Set(0, 1, 0.0); m.Set(0, 2, tx);
            m.Set(1, 0, 0.0); m.Set(1, 1, s); m.Set(1, 2, ty);
            var size = new Size((int)Math.Ceiling(r.Cols * s), (int)Math.Ceiling(r.Rows * s));
            Cv2.WarpAffine(r, w, m, size, InterpolationFlags.Linear, BorderTypes.Constant, Scalar.All(0));
        }
        var tile = Fold(w);
        var (z, ox, oy, fx, fy) = Sync(tile, layout);
        return new Attempt(z, ox, oy, fx, fy, s, flip, w) { Tile = tile };
    }

    private static float[] Fold(Mat w)
    {
        var t = new float[P * P];
        var wc = w.Cols;
        unsafe
        {
            for (int y = 0, rows = w.Rows; y < rows; y++)
            {
                var row = (float*)w.Ptr(y);
                var tr = (y % P) * P;
                var x = 0;
                while (x < wc)
                {
                    var n = Math.Min(P, wc - x);
                    for (var u = 0; u < n; u++) t[tr + u] += row[x + u];
                    x += n;
                }
            }
        }
        return t;
    }

    /// <summary>Cyclic correlation of the folded tile with the sync chips: best phase, its z-score, sub-pixel part.</summary>
    private static (double Z, int Ox, int Oy, double Fx, double Fy) Sync(float[] tile, WatermarkLayout layout)
    {
        var corr = new float[P * P];
        using (var t = Mat.FromPixelData(P, P, MatType.CV_32F, tile))
        using (var ft = new Mat())
        using (var prod = new Mat())
        using (var c = new Mat())
        {
            Cv2.Dft(t, ft, DftFlags.ComplexOutput);
            WhitenSpectrum(ft);
            Cv2.MulSpectrums(ft, layout.SyncSpectrum, prod, DftFlags.None, conjB: true);
            Cv2.Idft(prod, c, DftFlags.Scale | DftFlags.RealOutput);
            c.GetArray(out float[] arr);
            arr.CopyTo(corr, 0);
        }
        double mean = 0, sq = 0;
        var bi = 0;
        for (var i = 0; i < corr.Length; i++)
        {
            mean += corr[i];
            sq += corr[i] * corr[i];
            if (corr[i] > corr[bi]) bi = i;
        }
        mean /= corr.Length;
        var sd = Math.Sqrt(Math.Max(1e-12, sq / corr.Length - mean * mean));
        var z = (corr[bi] - mean) / sd;
        int ox = bi % P, oy = bi / P;
        double At(int x, int y) => corr[((y + P) % P) * P + (x + P) % P];
        double Par(double l, double c, double r)
        {
            var den = l - 2 * c + r;
            return Math.Abs(den) < 1e-12 ? 0 : Math.Clamp(0.5 * (l - r) / den, -0.5, 0.5);
        }
        var fx = Par(At(ox - 1, oy), At(ox, oy), At(ox + 1, oy));
        var fy = Par(At(ox, oy - 1), At(ox, oy), At(ox, oy + 1));
        return (z, ox, oy, fx, fy);
    }

    /// <summary>
    /// Spectral whitening of a folded tile (in place, complex DFT): the mark is white over the tile, while the
    /// picture's leftovers that survive folding concentrate in few frequencies; dividing by the magnitude's
    /// square root (half-way to phase-only correlation) equalises them.
    /// </summary>
    private static void WhitenSpectrum(Mat ft)
    {
        var ch = Cv2.Split(ft);
        using var mag = new Mat();
        Cv2.Magnitude(ch[0], ch[1], mag);
        Cv2.Sqrt(mag, mag);
        Cv2.Add(mag, Scalar.All(Cv2.Mean(mag).Val0 * 0.05 + 1e-9), mag);
        Cv2.Divide(ch[0], mag, ch[0]);
        Cv2.Divide(ch[1], mag, ch[1]);
        ch[0].Set(0, 0, 0f);
        ch[1].Set(0, 0, 0f);
        Cv2.Merge(ch, ft);
        foreach (var c in ch) c.Dispose();
    }

    private static float[] WhitenTile(float[] tile)
    {
        using var t = Mat.FromPixelData(P, P, MatType.CV_32F, tile);
        using var ft = new Mat();
        Cv2.Dft(t, ft, DftFlags.ComplexOutput);
        WhitenSpectrum(ft);
        using var back = new Mat();
        Cv2.Idft(ft, back, DftFlags.Scale | DftFlags.RealOutput);
        back.GetArray(out float[] arr);
        return arr;
    }

    /// <summary>Refines the phase to whole pixels, despreads, Viterbi-decodes and checks.</summary>
    private static Result Finish(Attempt a, WatermarkLayout layout, WatermarkKey key, string mode)
    {
        var tile = a.Tile!;
        int ox = a.Ox, oy = a.Oy;
        if (Math.Abs(a.Fx) > 0.2 || Math.Abs(a.Fy) > 0.2)
        {
            // Shift the resampled residual so that the tile phase falls on whole pixels, fold again.
            using var m = new Mat(2, 3, MatType.CV_64F);
            m.Set(0, 0, 1.0); m.Set(0, 1, 0.0); m.Set(0, 2, -a.Fx);
            m.Set(1, 0, 0.0); m.Set(1, 1, 1.0); m.Set(1, 2, -a.Fy);
            using var w2 = new Mat();
            Cv2.WarpAffine(a.Residual, w2, m, a.Residual.Size(), InterpolationFlags.Linear, BorderTypes.Constant, Scalar.All(0));
            var t2 = Fold(w2);
            var (z2, ox2, oy2, _, _) = Sync(t2, layout);
            if (z2 >= a.Z * 0.9) { tile = t2; ox = ox2; oy = oy2; }
        }
        tile = WhitenTile(tile);
        var soft = new double[WatermarkCode.CodedBits];
        for (var b = 0; b < soft.Length; b++)
        {
            double acc = 0;
            foreach (var pos in layout.ChipsOfBit[b])
            {
                var u = ((pos & (P - 1)) + ox) & (P - 1);
                var v = ((pos >> 6) + oy) & (P - 1);
                acc += tile[(v << 6) | u] * layout.Chip[pos];
            }
            soft[b] = acc;
        }
        var info = WatermarkCode.Decode(soft);
        var ok = WatermarkCode.Check(info, key, layout.Whitening, out var payload);
        var coded = WatermarkCode.Encode(info);
        var agree = 0;
        for (var i = 0; i < coded.Length; i++) if ((soft[i] > 0) == coded[i]) agree++;
        var conf = Math.Clamp(2.0 * agree / coded.Length - 1, 0, 1);
        a.Residual.Dispose();
        var reading = ok
            ? new WatermarkReading(true, payload, Math.Round(Math.Max(conf, 0.01), 4), mode)
            : new WatermarkReading(false, null, 0, mode);
        return new Result(reading, payload, a.Z);
    }

    /// <summary>Candidate tile periods (in frame pixels) from the autocorrelation of the whitened frame.</summary>
    private static List<double> CandidatePeriods(Mat r)
    {
        int w = r.Cols, h = r.Rows;
        var pw = Cv2.GetOptimalDFTSize(2 * w);
        var ph = Cv2.GetOptimalDFTSize(2 * h);
        using var padded = new Mat(ph, pw, MatType.CV_32F, Scalar.All(0));
        using (var roi = new Mat(padded, new Rect(0, 0, w, h))) r.CopyTo(roi);
        using var spec = new Mat();
        Cv2.Dft(padded, spec, DftFlags.ComplexOutput);
        using var pow = new Mat();
        Cv2.MulSpectrums(spec, spec, pow, DftFlags.None, conjB: true);
        // Whiten the power spectrum against its local average: the mark's comb of sharp lines stands out,
        // the picture's own (smooth) spectrum flattens.
        using (var re = new Mat())
        using (var avg = new Mat())
        {
            Cv2.ExtractChannel(pow, re, 0);
            Cv2.GaussianBlur(re, avg, new Size(0, 0), 4);
            Cv2.Add(avg, Scalar.All(Cv2.Mean(re).Val0 * 1e-3 + 1e-9), avg);
            Cv2.Divide(re, avg, re);
            re.Set(0, 0, 0f);
            using var zero = new Mat(re.Size(), MatType.CV_32F, Scalar.All(0));
            Cv2.Merge([re, zero], pow);
        }
        using var ac = new Mat();
        Cv2.Idft(pow, ac, DftFlags.Scale | DftFlags.RealOutput);
        var ac0 = Math.Abs(ac.At<float>(0, 0)) / ((double)w * h) + 1e-12;
        double Acn(double dx, double dy)
        {
            // bilinear, lags may be negative (wrap into the padded array)
            var x0 = (int)Math.Floor(dx);
            var y0 = (int)Math.Floor(dy);
            double fx = dx - x0, fy = dy - y0;
            double v = 0;
            for (var j = 0; j < 2; j++)
            for (var i = 0; i < 2; i++)
            {
                var lx = x0 + i;
                var ly = y0 + j;
                var ov = (double)(w - Math.Abs(lx)) * (h - Math.Abs(ly));
                if (ov <= 0) continue;
                var val = ac.At<float>(((ly % ph) + ph) % ph, ((lx % pw) + pw) % pw) / ov / ac0;
                v += val * (i == 0 ? 1 - fx : fx) * (j == 0 ? 1 - fy : fy);
            }
            return v;
        }
        var scores = new List<(double P, double S)>();
        const int margin = 40;
        for (var p = 0.42 * P; p <= 2.3 * P; p += 0.25)
        {
            double sum = 0;
            var n = 0;
            for (var k = 0; k <= 3; k++)
            for (var l = -3; l <= 3; l++)
            {
                // Off-axis lattice points only: stripes and grid-aligned textures put their own peaks on the axes.
                if (k == 0 || l == 0) continue;
                var dx = k * p;
                var dy = l * p;
                if (dx > w - margin || Math.Abs(dy) > h - margin) continue;
                sum += Acn(dx, dy);
                n++;
            }
            if (n >= 1) scores.Add((p, sum / Math.Sqrt(n)));
        }
        var peaks = new List<(double P, double S)>();
        for (var i = 1; i + 1 < scores.Count; i++)
            if (scores[i].S >= scores[i - 1].S && scores[i].S >= scores[i + 1].S)
                peaks.Add(scores[i]);
        return peaks.OrderByDescending(x => x.S).Take(4).Select(x => x.P).ToList();
    }

    // ---------------------------------------------------------------- informed

    internal static Result DecodeInformed(Mat query8, Mat original8, WatermarkKey key, double[]? homography)
    {
        var layout = WatermarkLayout.For(key);
        Result? best = null;
        // Each registration is tried as it is and, when that does not decode, refined by ECC (precise where
        // the registration came from few or ambiguous features, or was only a guess).
        if (homography is { Length: 9 })
        {
            using var h = new Mat(3, 3, MatType.CV_64F);
            for (var i = 0; i < 9; i++) h.Set(i / 3, i % 3, homography[i]);
            if (TryWithRefinement(h)) return best!;
        }
        // The query may be the whole original, resized (same aspect ratio) or turned about its middle: cheapest,
        // try first.
        var sameAspect = Math.Abs(Math.Log((double)query8.Cols / query8.Rows * original8.Rows / original8.Cols)) < 0.01;
        if (sameAspect && TryScaled()) return best!;
        // Registration by features (ORB first, SIFT when ORB's registration does not decode), and between them
        // a search of scale and shift for pictures with too few distinct corners.
        foreach (var how in new[] { "orb", "search", "sift" })
        {
            var candidates = how == "search" ? WatermarkGeometry.SearchScaleShift(query8, original8)
                : WatermarkGeometry.EstimateCandidates(query8, original8, how == "sift");
            try
            {
                foreach (var est in candidates)
                    if (TryWithRefinement(est)) return best!;
            }
            finally
            {
                foreach (var c in candidates) c.Dispose();
            }
        }
        if (sameAspect ? TryScaledTurned() : TryScaled()) return best!;
        var blind = DecodeBlind(query8, key);
        if (blind.Reading.Found) return blind with { Reading = blind.Reading with { Mode = WatermarkReading.Informed } };
        return best ?? new Result(new WatermarkReading(false, null, 0, WatermarkReading.Informed), 0, 0);

        bool Try(Mat h)
        {
            var res = DecodeWarped(query8, original8, h, layout, key);
            if (res.Reading.Found || best is null || res.SyncZ > best.SyncZ) best = res;
            return res.Reading.Found;
        }

        bool TryWithRefinement(Mat h, IReadOnlyList<double>? startDegrees = null)
        {
            if (Try(h)) return true;
            using var refined = WatermarkGeometry.RefineEcc(query8, original8, h, startDegrees ?? [0.0], out var cc);
            if (Environment.GetEnvironmentVariable("WM_DEBUG") == "1")
                Console.Error.WriteLine($"ecc: {(refined is null ? "failed" : $"cc={cc:F3}")}");
            return refined is not null && TryRefined(refined);
        }

        // A refined registration, and when it does not decode, the similarities from each of its rows (for
        // pictures that pin down one direction only).
        bool TryRefined(Mat refined)
        {
            if (Try(refined)) return true;
            var sims = WatermarkGeometry.SimilaritiesOf(refined, query8.Size());
            try
            {
                foreach (var s in sims)
                    if (Try(s)) return true;
                return false;
            }
            finally
            {
                foreach (var s in sims) s.Dispose();
            }
        }

        bool TryScaled()
        {
            using var sc = new Mat(3, 3, MatType.CV_64F, Scalar.All(0));
            sc.Set(0, 0, (double)original8.Cols / query8.Cols);
            sc.Set(1, 1, (double)original8.Rows / query8.Rows);
            sc.Set(2, 2, 1.0);
            if (Try(sc)) return true;
            // The whole picture mirrored (as is: a mirrored copy does not correlate with the original, ECC cannot
            // start from the plain scaling).
            using var mirrored = new Mat(3, 3, MatType.CV_64F, Scalar.All(0));
            mirrored.Set(0, 0, -(double)original8.Cols / query8.Cols);
            mirrored.Set(0, 2, original8.Cols - (double)original8.Cols / query8.Cols);
            mirrored.Set(1, 1, (double)original8.Rows / query8.Rows);
            mirrored.Set(2, 2, 1.0);
            if (Try(mirrored)) return true;
            // The whole picture, perhaps turned by a small angle about its middle: ECC from the plain scaling.
            using var refined = WatermarkGeometry.RefineEcc(query8, original8, sc, out _);
            return refined is not null && TryRefined(refined);
        }

        bool TryScaledTurned()
        {
            using var sc = new Mat(3, 3, MatType.CV_64F, Scalar.All(0));
            sc.Set(0, 0, (double)original8.Cols / query8.Cols);
            sc.Set(1, 1, (double)original8.Rows / query8.Rows);
            sc.Set(2, 2, 1.0);
            // ECC from a few starting angles: on strongly periodic texture (stripes) it converges only from
            // within about a degree, and features there are ambiguous.
            using var refined = WatermarkGeometry.RefineEcc(query8, original8, sc, WholePictureTurns, out _);
            return refined is not null && TryRefined(refined);
        }
    }

    /// <summary>Starting angles (degrees) of the coarse search for a whole picture turned about its middle.</summary>
    private static readonly double[] WholePictureTurns = [-2, 2, -4, 4, -6, 6, -8, 8, -10, 10];

    private static Result DecodeWarped(Mat query8, Mat original8, Mat h, WatermarkLayout layout, WatermarkKey key)
    {
        var fs = WatermarkImage.FrameSize(original8.Cols, original8.Rows);
        // Work at the original's size, capped for very large originals.
        var shortSide = Math.Min(original8.Cols, original8.Rows);
        var c = Math.Min(1.0, 1024.0 / shortSide);
        var refSize = c < 1 ? new Size((int)Math.Round(original8.Cols * c), (int)Math.Round(original8.Rows * c)) : original8.Size();
        using var sr = new Mat(3, 3, MatType.CV_64F, Scalar.All(0));
        sr.Set(0, 0, (double)refSize.Width / original8.Cols);
        sr.Set(1, 1, (double)refSize.Height / original8.Rows);
        sr.Set(2, 2, 1.0);
        using var m = new Mat();
        Cv2.Gemm(sr, h, 1, new Mat(), 0, m);
        using var qf32 = new Mat();
        query8.ConvertTo(qf32, MatType.CV_32F);
        using var qr = new Mat();
        Cv2.WarpPerspective(qf32, qr, m, refSize, InterpolationFlags.Linear, BorderTypes.Constant, Scalar.All(0));
        using var ones = new Mat(query8.Size(), MatType.CV_32F, Scalar.All(1));
        using var vr = new Mat();
        Cv2.WarpPerspective(ones, vr, m, refSize, InterpolationFlags.Linear, BorderTypes.Constant, Scalar.All(0));
        using var or = new Mat();
        if (c < 1) { using var o32 = new Mat(); original8.ConvertTo(o32, MatType.CV_32F); Cv2.Resize(o32, or, refSize, 0, 0, InterpolationFlags.Area); }
        else original8.ConvertTo(or, MatType.CV_32F);

        using var qf = new Mat();
        using var of = new Mat();
        using var vf = new Mat();
        Cv2.Resize(qr, qf, fs, 0, 0, InterpolationFlags.Area);
        Cv2.Resize(or, of, fs, 0, 0, InterpolationFlags.Area);
        Cv2.Resize(vr, vf, fs, 0, 0, InterpolationFlags.Area);
        using var valid = new Mat();
        Cv2.Threshold(vf, valid, 0.999, 1, ThresholdTypes.Binary);
        var coverage = Cv2.Mean(valid).Val0;
        if (coverage < 0.01)
            return new Result(new WatermarkReading(false, null, 0, WatermarkReading.Informed), 0, 0);

        // Gain/offset fit of query against original over the valid area (colour and contrast changes).
        var (ga, gb) = FitGain(qf, of, valid);
        using var resid = new Mat();
        Cv2.AddWeighted(qf, 1.0, of, -ga, -gb, resid);
        Cv2.Multiply(resid, valid, resid);
        using var r = Whiten(resid, valid);
        var a = Evaluate(r, 1.0, false, layout);
        return Finish(a, layout, key, WatermarkReading.Informed);
    }

    private static (double A, double B) FitGain(Mat q, Mat o, Mat valid)
    {
        double n = 0, sq = 0, so = 0, soo = 0, sqo = 0;
        unsafe
        {
            for (int y = 0, rows = q.Rows; y < rows; y++)
            {
                var pq = (float*)q.Ptr(y);
                var po = (float*)o.Ptr(y);
                var pv = (float*)valid.Ptr(y);
                for (int x = 0, cols = q.Cols; x < cols; x++)
                {
                    if (pv[x] < 0.5f) continue;
                    n++; sq += pq[x]; so += po[x]; soo += po[x] * (double)po[x]; sqo += pq[x] * (double)po[x];
                }
            }
        }
        if (n < 16) return (1, 0);
        var mo = so / n;
        var mq = sq / n;
        var varo = soo / n - mo * mo;
        var cov = sqo / n - mq * mo;
        var a = varo > 1e-6 ? cov / varo : 1;
        a = Math.Clamp(a, 0.2, 5);
        return (a, mq - a * mo);
    }
}
