using OpenCvSharp;

namespace LeakHunter.Index.Imaging;

/// <summary>A decoded picture: 8-bit BGR pixels, EXIF orientation applied, alpha flattened on white.</summary>
public sealed class DecodedImage(Mat bgr, ImageHeader header, int fullWidth, int fullHeight) : IDisposable
{
    /// <summary>8-bit, 3-channel BGR pixels (possibly at reduced scale, see <see cref="ScaleToFull"/>).</summary>
    public Mat Bgr { get; } = bgr;

    public ImageHeader Header { get; } = header;

    /// <summary>Width of the full-resolution picture after EXIF orientation.</summary>
    public int FullWidth { get; } = fullWidth;

    /// <summary>Height of the full-resolution picture after EXIF orientation.</summary>
    public int FullHeight { get; } = fullHeight;

    /// <summary>Full-resolution pixels per decoded pixel (1 unless decoded at reduced scale).</summary>
    public double ScaleToFull => (double)FullWidth / Bgr.Width;

    public void Dispose() => Bgr.Dispose();
}

/// <summary>
/// Decodes JPEG, PNG, WebP, GIF (first frame), BMP and TIFF with OpenCV after checking the header
/// against a pixel budget. Never returns a partial picture: truncated or corrupt input throws
/// <see cref="ImageRejectedException"/>.
/// </summary>
public static class ImageDecoder
{
    public const long DefaultMaxPixels = 100_000_000;

    /// <summary>
    /// Decodes <paramref name="data"/>. When <paramref name="minLongSide"/> is positive, a JPEG is
    /// decoded at the smallest DCT scale (1/2, 1/4, 1/8) whose long side is still at least that.
    /// </summary>
    public static DecodedImage Decode(byte[] data, long maxPixels = DefaultMaxPixels, int minLongSide = 0)
    {
        ArgumentNullException.ThrowIfNull(data);
        var header = ImageHeader.Read(data);
        if (header.Pixels > maxPixels)
            throw new ImageRejectedException(
                $"Image too large: {header.Width}x{header.Height} is {header.Pixels / 1e6:0.#} megapixels, over the budget of {maxPixels / 1e6:0.#}.");
        CheckComplete(data, header);

        Mat raw;
        int reduction = 1;
        try
        {
            if (header.Format == ImageFormat.Jpeg)
            {
                if (minLongSide > 0)
                {
                    int longSide = Math.Max(header.Width, header.Height);
                    foreach (int f in new[] { 8, 4, 2 })
                        if (longSide / f >= minLongSide) { reduction = f; break; }
                }
                var mode = reduction switch
                {
                    8 => ImreadModes.ReducedColor8,
                    4 => ImreadModes.ReducedColor4,
                    2 => ImreadModes.ReducedColor2,
                    _ => ImreadModes.Color,
                };
                raw = Cv2.ImDecode(data, mode);
            }
            else
            {
                raw = Cv2.ImDecode(data, ImreadModes.Unchanged);
            }
        }
        catch (Exception e) when (e is OpenCVException or OpenCvSharpException or ArgumentException)
        {
            throw new ImageRejectedException($"Corrupt {header.Format} image: {FirstLine(e.Message)}", e);
        }

        if (raw.Empty())
        {
            raw.Dispose();
            throw new ImageRejectedException($"Corrupt {header.Format} image: it could not be decoded.");
        }

        Mat bgr;
        try
        {
            bgr = ToBgr8(raw);
        }
        finally
        {
            raw.Dispose();
        }

        int fullW = header.Width, fullH = header.Height;
        bool decodedLandscape = bgr.Width > bgr.Height, headerLandscape = header.Width > header.Height;
        if (header.Width != header.Height && bgr.Width != bgr.Height && decodedLandscape != headerLandscape)
            (fullW, fullH) = (fullH, fullW);
        return new DecodedImage(bgr, header, fullW, fullH);
    }

    /// <summary>Reads only the header (format and dimensions); throws when it is not a supported image.</summary>
    public static ImageHeader ReadHeader(byte[] data) => ImageHeader.Read(data);

    private static string FirstLine(string s)
    {
        int nl = s.IndexOfAny(['\r', '\n']);
        return nl >= 0 ? s[..nl] : s;
    }

    private static void CheckComplete(byte[] data, ImageHeader header)
    {
        switch (header.Format)
        {
            case ImageFormat.Jpeg:
            {
                int sos = ImageHeader.JpegFirstScanOffset(data);
                if (sos < 0)
                    throw new ImageRejectedException("Corrupt JPEG image: no image data.");
                // FF D9 (end of image) cannot occur inside entropy-coded data (FF is stuffed as FF 00).
                if (data.AsSpan(sos).IndexOf((ReadOnlySpan<byte>)[0xFF, 0xD9]) < 0)
                    throw new ImageRejectedException("Truncated JPEG image: the end-of-image marker is missing.");
                break;
            }
            case ImageFormat.Png:
                if (data.AsSpan(Math.Max(0, data.Length - 64)).IndexOf("IEND"u8) < 0)
                    throw new ImageRejectedException("Truncated PNG image: the IEND chunk is missing.");
                break;
            case ImageFormat.Gif:
                if (data.AsSpan(Math.Max(0, data.Length - 16)).IndexOf((byte)0x3B) < 0)
                    throw new ImageRejectedException("Truncated GIF image: the trailer is missing.");
                break;
        }
    }

    /// <summary>Converts any decoded Mat (gray, BGRA, 16-bit, float) to 8-bit BGR; alpha is flattened on white.</summary>
    public static Mat ToBgr8(Mat src)
    {
        Mat m8;
        var depth = src.Depth();
        if (depth == MatType.CV_8U)
            m8 = src.Clone();
        else
        {
            m8 = new Mat();
            double scale = depth switch
            {
                MatType.CV_16U => 1.0 / 257.0,
                MatType.CV_16S => 1.0 / 128.0,
                MatType.CV_32F or MatType.CV_64F => 255.0,
                _ => 1.0,
            };
            src.ConvertTo(m8, MatType.MakeType(MatType.CV_8U, src.Channels()), scale);
        }

        int ch = m8.Channels();
        if (ch == 3)
            return m8;
        var dst = new Mat();
        using (m8)
        {
            if (ch == 1)
                Cv2.CvtColor(m8, dst, ColorConversionCodes.GRAY2BGR);
            else if (ch == 2)
            {
                // gray + alpha
                var planes = Cv2.Split(m8);
                using var bgra = new Mat();
                Cv2.Merge([planes[0], planes[0], planes[0], planes[1]], bgra);
                foreach (var p in planes) p.Dispose();
                FlattenOnWhite(bgra, dst);
            }
            else if (ch == 4)
                FlattenOnWhite(m8, dst);
            else
                throw new ImageRejectedException($"Unsupported image: {ch} channels.");
        }
        return dst;
    }

    private static void FlattenOnWhite(Mat bgra, Mat dst)
    {
        var planes = Cv2.Split(bgra);
        try
        {
            using var alpha = new Mat();
            planes[3].ConvertTo(alpha, MatType.CV_32F, 1.0 / 255.0);
            using var inv = new Mat();
            Cv2.Subtract(Scalar.All(1.0), alpha, inv);
            var outPlanes = new Mat[3];
            for (int c = 0; c < 3; c++)
            {
                using var f = new Mat();
                planes[c].ConvertTo(f, MatType.CV_32F);
                using var a = f.Mul(alpha).ToMat();
                using var b = new Mat();
                Cv2.Multiply(inv, Scalar.All(255.0), b);
                using var sum = new Mat();
                Cv2.Add(a, b, sum);
                outPlanes[c] = new Mat();
                sum.ConvertTo(outPlanes[c], MatType.CV_8U);
            }
            Cv2.Merge(outPlanes, dst);
            foreach (var p in outPlanes) p.Dispose();
        }
        finally
        {
            foreach (var p in planes) p.Dispose();
        }
    }
}
