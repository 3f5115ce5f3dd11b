using OpenCvSharp;

namespace LeakHunter.Index.Watermark;

internal enum WatermarkImageFormat { Jpeg, Png, Webp, Bmp, Tiff, Other }

/// <summary>Decoding, encoding and the shared geometry (the mark frame) of the watermark.</summary>
internal static class WatermarkImage
{
    /// <summary>Short side of the mark frame: the mark is laid out on the picture scaled to this size.</summary>
    public const int FrameShort = 256;

    public static WatermarkImageFormat Detect(ReadOnlySpan<byte> b)
    {
        if (b.Length >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF) return WatermarkImageFormat.Jpeg;
        if (b.Length >= 8 && b[0] == 0x89 && b[1] == 0x50 && b[2] == 0x4E && b[3] == 0x47) return WatermarkImageFormat.Png;
        if (b.Length >= 12 && b[0] == 'R' && b[1] == 'I' && b[2] == 'F' && b[3] == 'F' && b[8] == 'W' && b[9] == 'E' && b[10] == 'B' && b[11] == 'P')
            return WatermarkImageFormat.Webp;
        if (b.Length >= 2 && b[0] == 'B' && b[1] == 'M') return WatermarkImageFormat.Bmp;
        if (b.Length >= 4 && ((b[0] == 'I' && b[1] == 'I' && b[2] == 42 && b[3] == 0) || (b[0] == 'M' && b[1] == 'M' && b[2] == 0 && b[3] == 42)))
            return WatermarkImageFormat.Tiff;
        return WatermarkImageFormat.Other;
    }

    /// <summary>Decodes to an 8-bit Mat with 1, 3 or 4 channels (alpha kept).</summary>
    public static Mat Decode(byte[] bytes)
    {
        var fmt = Detect(bytes);
        var mode = fmt == WatermarkImageFormat.Jpeg ? ImreadModes.Color : ImreadModes.Unchanged;
        var m = Cv2.ImDecode(bytes, mode);
        if (m.Empty())
        {
            m.Dispose();
            throw new FormatException("not a decodable image");
        }
        if (m.Depth() != MatType.CV_8U)
        {
            var scale = m.Depth() == MatType.CV_16U ? 1.0 / 257 : m.Depth() == MatType.CV_32F ? 255.0 : 1.0;
            var c = new Mat();
            m.ConvertTo(c, MatType.CV_8UC(m.Channels()), scale);
            m.Dispose();
            m = c;
        }
        if (m.Channels() == 2)
        {
            var c = new Mat();
            Cv2.CvtColor(m, c, ColorConversionCodes.GRAY2BGR);
            m.Dispose();
            m = c;
        }
        return m;
    }

    /// <summary>
    /// Decodes to luminance at reduced size where that loses nothing the mark needs: large JPEGs are decoded
    /// with libjpeg's DCT-domain downscaling (1/2, 1/4, 1/8) as long as the short side stays at least twice
    /// the mark frame's. Much faster for big photos; the blind decoder works on the mark frame anyway.
    /// </summary>
    public static Mat DecodeGrayForFrame(byte[] bytes)
    {
        if (Detect(bytes) == WatermarkImageFormat.Jpeg && bytes.Length > 400_000)
        {
            using var g8 = Cv2.ImDecode(bytes, ImreadModes.ReducedGrayscale8);
            if (!g8.Empty())
            {
                var shortFull = Math.Min(g8.Cols, g8.Rows) * 8;
                foreach (var (r, mode) in new[] { (8, ImreadModes.ReducedGrayscale8), (4, ImreadModes.ReducedGrayscale4), (2, ImreadModes.ReducedGrayscale2) })
                {
                    if (shortFull / r < 2 * FrameShort) continue;
                    if (r == 8) return g8.Clone();
                    var g = Cv2.ImDecode(bytes, mode);
                    if (!g.Empty()) return g;
                    g.Dispose();
                }
            }
        }
        return DecodeGray(bytes);
    }

    /// <summary>Decodes straight to 8-bit luminance.</summary>
    public static Mat DecodeGray(byte[] bytes)
    {
        var fmt = Detect(bytes);
        if (fmt == WatermarkImageFormat.Jpeg)
        {
            var g = Cv2.ImDecode(bytes, ImreadModes.Grayscale);
            if (g.Empty()) { g.Dispose(); throw new FormatException("not a decodable image"); }
            return g;
        }
        using var m = Decode(bytes);
        return ToGray(m);
    }

    public static Mat ToGray(Mat m)
    {
        var g = new Mat();
        switch (m.Channels())
        {
            case 1: m.CopyTo(g); break;
            case 3: Cv2.CvtColor(m, g, ColorConversionCodes.BGR2GRAY); break;
            case 4: Cv2.CvtColor(m, g, ColorConversionCodes.BGRA2GRAY); break;
            default: throw new FormatException("unsupported channel count");
        }
        return g;
    }

    public static byte[] Encode(Mat m, WatermarkImageFormat fmt, int jpegQuality)
    {
        string ext;
        ImageEncodingParam[] prms;
        switch (fmt)
        {
            case WatermarkImageFormat.Jpeg:
                ext = ".jpg";
                prms = [new ImageEncodingParam(ImwriteFlags.JpegQuality, Math.Clamp(jpegQuality, 1, 100))];
                break;
            case WatermarkImageFormat.Webp:
                ext = ".webp";
                prms = [new ImageEncodingParam(ImwriteFlags.WebPQuality, Math.Clamp(jpegQuality, 1, 101))];
                break;
            case WatermarkImageFormat.Bmp: ext = ".bmp"; prms = []; break;
            case WatermarkImageFormat.Tiff: ext = ".tiff"; prms = []; break;
            default: ext = ".png"; prms = [new ImageEncodingParam(ImwriteFlags.PngCompression, 6)]; break;
        }
        if (fmt == WatermarkImageFormat.Jpeg && m.Channels() == 4)
        {
            using var c = new Mat();
            Cv2.CvtColor(m, c, ColorConversionCodes.BGRA2BGR);
            Cv2.ImEncode(ext, c, out var b1, prms);
            return b1;
        }
        Cv2.ImEncode(ext, m, out var bytes, prms);
        return bytes;
    }

    /// <summary>Size of the mark frame for a picture of the given size (short side = <see cref="FrameShort"/>).</summary>
    public static Size FrameSize(int width, int height)
    {
        if (width <= height)
            return new Size(FrameShort, Math.Max(FrameShort, (int)Math.Round((double)height * FrameShort / width)));
        return new Size(Math.Max(FrameShort, (int)Math.Round((double)width * FrameShort / height)), FrameShort);
    }
}
