using OpenCvSharp;

namespace LeakHunter.Index.Hashing;

/// <summary>
/// 64-bit DCT perceptual hash: luma resized to 32x32, 2-D DCT, the 8x8 lowest frequencies
/// compared with their median. Bit 63 is the DC-most coefficient; printed as 16 hex digits.
/// </summary>
public static class PHash
{
    public static ulong Compute(Mat bgr)
    {
        using var gray = new Mat();
        if (bgr.Channels() == 3)
            Cv2.CvtColor(bgr, gray, ColorConversionCodes.BGR2GRAY);
        else
            bgr.CopyTo(gray);
        using var small = new Mat();
        Cv2.Resize(gray, small, new Size(32, 32), 0, 0, gray.Width >= 32 && gray.Height >= 32 ? InterpolationFlags.Area : InterpolationFlags.Linear);
        using var f = new Mat();
        small.ConvertTo(f, MatType.CV_32F);
        using var dct = new Mat();
        Cv2.Dct(f, dct);
        Span<float> v = stackalloc float[64];
        for (int i = 0; i < 8; i++)
            for (int j = 0; j < 8; j++)
                v[i * 8 + j] = dct.At<float>(i, j);
        Span<float> sorted = stackalloc float[64];
        v.CopyTo(sorted);
        // median of the AC coefficients (DC dominates and would bias it)
        sorted[1..].Sort();
        float median = (sorted[32] + sorted[33]) / 2f;
        ulong h = 0;
        for (int k = 0; k < 64; k++)
            if (v[k] > median)
                h |= 1UL << (63 - k);
        return h;
    }

    public static string ToHex(ulong h) => h.ToString("x16");
}
