using System.Buffers.Binary;

namespace LeakHunter.Index.Imaging;

/// <summary>Container formats the decoder recognises from their magic bytes.</summary>
public enum ImageFormat
{
    Unknown = 0,
    Jpeg,
    Png,
    Gif,
    Bmp,
    WebP,
    Tiff,
}

/// <summary>
/// What the header of an image file says, read without decoding any pixel: format and dimensions
/// (as stored, before EXIF orientation), and whether it may carry alpha.
/// </summary>
public sealed record ImageHeader(ImageFormat Format, int Width, int Height, bool MayHaveAlpha, int BitDepth)
{
    public long Pixels => (long)Width * Height;

    /// <summary>Sniffs the format and reads the dimensions; throws <see cref="ImageRejectedException"/> when it cannot.</summary>
    public static ImageHeader Read(ReadOnlySpan<byte> data)
    {
        if (data.Length < 8)
            throw new ImageRejectedException("Not an image: the file is too short.");
        ImageHeader? h = Sniff(data) switch
        {
            ImageFormat.Png => ReadPng(data),
            ImageFormat.Jpeg => ReadJpeg(data),
            ImageFormat.Gif => ReadGif(data),
            ImageFormat.Bmp => ReadBmp(data),
            ImageFormat.WebP => ReadWebP(data),
            ImageFormat.Tiff => ReadTiff(data),
            _ => throw new ImageRejectedException("Not a supported image (JPEG, PNG, WebP, GIF, BMP or TIFF)."),
        };
        if (h is null || h.Width <= 0 || h.Height <= 0)
            throw new ImageRejectedException($"Corrupt {Sniff(data)} header: no valid dimensions.");
        return h;
    }

    public static ImageFormat Sniff(ReadOnlySpan<byte> d)
    {
        if (d.Length >= 8 && d[0] == 0x89 && d[1] == 'P' && d[2] == 'N' && d[3] == 'G' && d[4] == 0x0D && d[5] == 0x0A && d[6] == 0x1A && d[7] == 0x0A)
            return ImageFormat.Png;
        if (d.Length >= 3 && d[0] == 0xFF && d[1] == 0xD8 && d[2] == 0xFF)
            return ImageFormat.Jpeg;
        if (d.Length >= 6 && d[0] == 'G' && d[1] == 'I' && d[2] == 'F' && d[3] == '8' && (d[4] == '7' || d[4] == '9') && d[5] == 'a')
            return ImageFormat.Gif;
        if (d.Length >= 2 && d[0] == 'B' && d[1] == 'M')
            return ImageFormat.Bmp;
        if (d.Length >= 12 && d[0] == 'R' && d[1] == 'I' && d[2] == 'F' && d[3] == 'F' && d[8] == 'W' && d[9] == 'E' && d[10] == 'B' && d[11] == 'P')
            return ImageFormat.WebP;
        if (d.Length >= 4 && ((d[0] == 'I' && d[1] == 'I' && d[2] == 42 && d[3] == 0) || (d[0] == 'M' && d[1] == 'M' && d[2] == 0 && d[3] == 42)))
            return ImageFormat.Tiff;
        return ImageFormat.Unknown;
    }

    private static ImageHeader? ReadPng(ReadOnlySpan<byte> d)
    {
        if (d.Length < 33 || d[12] != 'I' || d[13] != 'H' || d[14] != 'D' || d[15] != 'R')
            return null;
        uint w = BinaryPrimitives.ReadUInt32BigEndian(d[16..]);
        uint h = BinaryPrimitives.ReadUInt32BigEndian(d[20..]);
        if (w > int.MaxValue || h > int.MaxValue)
            return null;
        int depth = d[24], colorType = d[25];
        bool alpha = colorType is 4 or 6 || d.IndexOf("tRNS"u8) >= 0;
        return new ImageHeader(ImageFormat.Png, (int)w, (int)h, alpha, depth);
    }

    /// <summary>Offset of the first SOS marker of a JPEG, or -1 (used to check for a complete scan).</summary>
    internal static int JpegFirstScanOffset(ReadOnlySpan<byte> d)
    {
        int i = 2;
        while (i + 4 <= d.Length)
        {
            if (d[i] != 0xFF) return -1;
            byte m = d[i + 1];
            if (m == 0xFF) { i++; continue; }
            if (m == 0xDA) return i;
            if (m is 0x01 or (>= 0xD0 and <= 0xD7)) { i += 2; continue; }
            int len = BinaryPrimitives.ReadUInt16BigEndian(d[(i + 2)..]);
            if (len < 2) return -1;
            i += 2 + len;
        }
        return -1;
    }

    private static ImageHeader? ReadJpeg(ReadOnlySpan<byte> d)
    {
        int i = 2;
        while (i + 4 <= d.Length)
        {
            if (d[i] != 0xFF) return null;
            byte m = d[i + 1];
            if (m == 0xFF) { i++; continue; }
            if (m is 0x01 or (>= 0xD0 and <= 0xD7)) { i += 2; continue; }
            if (m is 0xD9 or 0xDA) return null; // no frame header before the scan
            int len = BinaryPrimitives.ReadUInt16BigEndian(d[(i + 2)..]);
            if (len < 2) return null;
            bool sof = m is >= 0xC0 and <= 0xCF && m is not (0xC4 or 0xC8 or 0xCC);
            if (sof)
            {
                if (i + 9 >= d.Length) return null;
                int precision = d[i + 4];
                int h = BinaryPrimitives.ReadUInt16BigEndian(d[(i + 5)..]);
                int w = BinaryPrimitives.ReadUInt16BigEndian(d[(i + 7)..]);
                return new ImageHeader(ImageFormat.Jpeg, w, h, false, precision);
            }
            i += 2 + len;
        }
        return null;
    }

    private static ImageHeader? ReadGif(ReadOnlySpan<byte> d)
    {
        if (d.Length < 13) return null;
        int w = BinaryPrimitives.ReadUInt16LittleEndian(d[6..]);
        int h = BinaryPrimitives.ReadUInt16LittleEndian(d[8..]);
        return new ImageHeader(ImageFormat.Gif, w, h, true, 8);
    }

    private static ImageHeader? ReadBmp(ReadOnlySpan<byte> d)
    {
        if (d.Length < 26) return null;
        uint dib = BinaryPrimitives.ReadUInt32LittleEndian(d[14..]);
        if (dib == 12)
        {
            int w12 = BinaryPrimitives.ReadUInt16LittleEndian(d[18..]);
            int h12 = BinaryPrimitives.ReadUInt16LittleEndian(d[20..]);
            return new ImageHeader(ImageFormat.Bmp, w12, h12, false, 8);
        }
        if (dib < 40 || d.Length < 30) return null;
        int w = BinaryPrimitives.ReadInt32LittleEndian(d[18..]);
        int h = BinaryPrimitives.ReadInt32LittleEndian(d[22..]);
        int bpp = BinaryPrimitives.ReadUInt16LittleEndian(d[28..]);
        if (h == int.MinValue) return null;
        return new ImageHeader(ImageFormat.Bmp, w, Math.Abs(h), bpp == 32, 8);
    }

    private static ImageHeader? ReadWebP(ReadOnlySpan<byte> d)
    {
        if (d.Length < 30) return null;
        var fourcc = d.Slice(12, 4);
        if (fourcc.SequenceEqual("VP8 "u8))
        {
            // frame tag (3 bytes) then start code 9D 01 2A then 14-bit width and height
            if (d[23] != 0x9D || d[24] != 0x01 || d[25] != 0x2A) return null;
            int w = BinaryPrimitives.ReadUInt16LittleEndian(d[26..]) & 0x3FFF;
            int h = BinaryPrimitives.ReadUInt16LittleEndian(d[28..]) & 0x3FFF;
            return new ImageHeader(ImageFormat.WebP, w, h, false, 8);
        }
        if (fourcc.SequenceEqual("VP8L"u8))
        {
            if (d[20] != 0x2F) return null;
            uint bits = BinaryPrimitives.ReadUInt32LittleEndian(d[21..]);
            int w = (int)(bits & 0x3FFF) + 1;
            int h = (int)((bits >> 14) & 0x3FFF) + 1;
            bool alpha = ((bits >> 28) & 1) != 0;
            return new ImageHeader(ImageFormat.WebP, w, h, alpha, 8);
        }
        if (fourcc.SequenceEqual("VP8X"u8))
        {
            bool alpha = (d[20] & 0x10) != 0;
            int w = 1 + (d[24] | d[25] << 8 | d[26] << 16);
            int h = 1 + (d[27] | d[28] << 8 | d[29] << 16);
            return new ImageHeader(ImageFormat.WebP, w, h, alpha, 8);
        }
        return null;
    }

    private static ImageHeader? ReadTiff(ReadOnlySpan<byte> d)
    {
        bool le = d[0] == 'I';
        uint ifd = U32(d, le, 4);
        if (ifd + 2 > d.Length) return null;
        int n = U16(d, le, (int)ifd);
        long w = -1, h = -1;
        int bits = 8, samples = 1;
        for (int k = 0; k < n; k++)
        {
            int e = (int)ifd + 2 + k * 12;
            if (e + 12 > d.Length) return null;
            int tag = U16(d, le, e), type = U16(d, le, e + 2);
            long value = type == 3 ? U16(d, le, e + 8) : U32(d, le, e + 8);
            switch (tag)
            {
                case 256: w = value; break;
                case 257: h = value; break;
                case 258: bits = type == 3 && U32(d, le, e + 4) == 1 ? (int)value : 8; break;
                case 277: samples = (int)value; break;
            }
        }
        if (w <= 0 || h <= 0 || w > int.MaxValue || h > int.MaxValue) return null;
        return new ImageHeader(ImageFormat.Tiff, (int)w, (int)h, samples is 2 or 4, bits);
    }

    private static uint U32(ReadOnlySpan<byte> d, bool le, int o) =>
        le ? BinaryPrimitives.ReadUInt32LittleEndian(d[o..]) : BinaryPrimitives.ReadUInt32BigEndian(d[o..]);

    private static ushort U16(ReadOnlySpan<byte> d, bool le, int o) =>
        le ? BinaryPrimitives.ReadUInt16LittleEndian(d[o..]) : BinaryPrimitives.ReadUInt16BigEndian(d[o..]);
}
