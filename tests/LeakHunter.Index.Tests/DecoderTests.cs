using System.Buffers.Binary;
using System.IO.Hashing;
using LeakHunter.Index.Imaging;
using OpenCvSharp;

namespace LeakHunter.Index.Tests;

public class DecoderTests
{
    private static Mat Gradient(int w, int h)
    {
        var m = new Mat(h, w, MatType.CV_8UC3);
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                m.Set(y, x, new Vec3b((byte)(x * 255 / w), (byte)(y * 255 / h), 128));
        return m;
    }

    [Theory]
    [InlineData(".png")]
    [InlineData(".jpg")]
    [InlineData(".bmp")]
    [InlineData(".tiff")]
    [InlineData(".webp")]
    public void Decodes_common_formats(string ext)
    {
        using var src = Gradient(64, 48);
        Cv2.ImEncode(ext, src, out var bytes);
        var header = ImageHeader.Read(bytes);
        Assert.Equal((64, 48), (header.Width, header.Height));
        using var img = ImageDecoder.Decode(bytes);
        Assert.Equal(64, img.Bgr.Width);
        Assert.Equal(48, img.Bgr.Height);
        Assert.Equal(MatType.CV_8UC3, img.Bgr.Type());
        var px = img.Bgr.At<Vec3b>(24, 32);
        Assert.InRange((int)px.Item0, 110, 145);
    }

    [Fact]
    public void Decodes_first_frame_of_gif()
    {
        var gif = TinyGif();
        var header = ImageHeader.Read(gif);
        Assert.Equal(ImageFormat.Gif, header.Format);
        using var img = ImageDecoder.Decode(gif);
        Assert.Equal((2, 2), (img.Bgr.Width, img.Bgr.Height));
        var red = img.Bgr.At<Vec3b>(0, 0);
        Assert.True(red.Item2 > 200 && red.Item0 < 50, $"expected red, got {red.Item0},{red.Item1},{red.Item2}");
    }

    /// <summary>A 2x2 GIF89a with a two-colour palette: red, blue / blue, red.</summary>
    private static byte[] TinyGif() =>
    [
        0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x02, 0x00, 0x02, 0x00, 0xF0, 0x00, 0x00, 0xFF, 0x00, 0x00, 0x00, 0x00, 0xFF,
        0x21, 0xF9, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x2C, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x02, 0x00, 0x00,
        0x02, 0x03, 0x44, 0x02, 0x05, 0x00, 0x3B,
    ];

    [Fact]
    public void Applies_exif_orientation()
    {
        using var src = Gradient(80, 40); // landscape
        var jpeg = TestImages.Jpeg(src);
        var withExif = InsertExifOrientation(jpeg, 6); // rotate 90 degrees clockwise for display
        using var img = ImageDecoder.Decode(withExif);
        Assert.Equal(40, img.Bgr.Width);
        Assert.Equal(80, img.Bgr.Height);
        Assert.Equal((40, 80), (img.FullWidth, img.FullHeight));
    }

    private static byte[] InsertExifOrientation(byte[] jpeg, ushort orientation)
    {
        // APP1 "Exif\0\0" + little-endian TIFF with one IFD entry: Orientation (0x0112), SHORT, 1
        var tiff = new List<byte> { (byte)'I', (byte)'I', 42, 0, 8, 0, 0, 0, 1, 0, 0x12, 0x01, 3, 0, 1, 0, 0, 0 };
        tiff.AddRange([(byte)orientation, 0, 0, 0, 0, 0, 0, 0]);
        var payload = new List<byte>();
        payload.AddRange("Exif\0\0"u8.ToArray());
        payload.AddRange(tiff);
        int len = payload.Count + 2;
        var seg = new List<byte> { 0xFF, 0xE1, (byte)(len >> 8), (byte)len };
        seg.AddRange(payload);
        return [jpeg[0], jpeg[1], .. seg, .. jpeg.AsSpan(2).ToArray()];
    }

    [Fact]
    public void Flattens_alpha_on_white()
    {
        using var bgra = new Mat(10, 10, MatType.CV_8UC4, new Scalar(0, 0, 0, 0)); // fully transparent black
        bgra.Rectangle(new Rect(0, 0, 5, 10), new Scalar(0, 0, 255, 255), -1); // left half opaque red
        using var img = ImageDecoder.Decode(TestImages.Png(bgra));
        Assert.Equal(new Vec3b(255, 255, 255), img.Bgr.At<Vec3b>(5, 8));
        Assert.Equal(new Vec3b(0, 0, 255), img.Bgr.At<Vec3b>(5, 2));
        Assert.True(ImageHeader.Read(TestImages.Png(bgra)).MayHaveAlpha);
    }

    [Fact]
    public void Converts_16_bit_png()
    {
        using var m16 = new Mat(8, 8, MatType.CV_16UC3, new Scalar(65535, 32896, 0));
        var png = TestImages.Png(m16);
        Assert.Equal(16, ImageHeader.Read(png).BitDepth);
        using var img = ImageDecoder.Decode(png);
        var px = img.Bgr.At<Vec3b>(4, 4);
        Assert.Equal(255, px.Item0);
        Assert.InRange((int)px.Item1, 126, 130);
        Assert.Equal(0, px.Item2);
    }

    [Fact]
    public void Converts_gray_to_bgr()
    {
        using var g = new Mat(8, 8, MatType.CV_8UC1, new Scalar(77));
        using var img = ImageDecoder.Decode(TestImages.Png(g));
        Assert.Equal(new Vec3b(77, 77, 77), img.Bgr.At<Vec3b>(1, 1));
    }

    [Fact]
    public void Refuses_huge_png_from_its_header_without_decoding()
    {
        var png = CraftPngHeader(50000, 50000);
        var e = Assert.Throws<ImageRejectedException>(() => ImageDecoder.Decode(png));
        Assert.Contains("too large", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void Pixel_budget_is_configurable()
    {
        using var src = Gradient(100, 100);
        var png = TestImages.Png(src);
        Assert.Throws<ImageRejectedException>(() => ImageDecoder.Decode(png, maxPixels: 9_999));
        using var ok = ImageDecoder.Decode(png, maxPixels: 10_000);
        Assert.Equal(100, ok.Bgr.Width);
    }

    [Fact]
    public void Refuses_huge_jpeg_and_gif_headers()
    {
        // JPEG: SOI, SOF0 announcing 60000x60000, then EOI
        byte[] jpeg = [0xFF, 0xD8, 0xFF, 0xC0, 0, 17, 8, 0xEA, 0x60, 0xEA, 0x60, 3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1, 0xFF, 0xD9];
        Assert.Contains("too large", Assert.Throws<ImageRejectedException>(() => ImageDecoder.Decode(jpeg)).Message);
        byte[] gif = [.. "GIF89a"u8.ToArray(), 0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0x3B];
        Assert.Contains("too large", Assert.Throws<ImageRejectedException>(() => ImageDecoder.Decode(gif, maxPixels: 1_000_000)).Message);
    }

    private static byte[] CraftPngHeader(int w, int h)
    {
        var ihdr = new byte[17];
        "IHDR"u8.CopyTo(ihdr);
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), w);
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(8), h);
        ihdr[12] = 8; ihdr[13] = 2;
        var bytes = new List<byte> { 0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13 };
        bytes.AddRange(ihdr);
        var crc = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(crc, Crc32.HashToUInt32(ihdr));
        bytes.AddRange(crc);
        bytes.AddRange([0, 0, 0, 0, (byte)'I', (byte)'E', (byte)'N', (byte)'D', 0xAE, 0x42, 0x60, 0x82]);
        return [.. bytes];
    }

    [Fact]
    public void Truncated_files_are_rejected()
    {
        using var src = TestImages.Scene(1);
        var jpeg = TestImages.Jpeg(src);
        var png = TestImages.Png(src);
        Assert.Throws<ImageRejectedException>(() => ImageDecoder.Decode(jpeg[..(jpeg.Length / 2)]));
        Assert.Throws<ImageRejectedException>(() => ImageDecoder.Decode(png[..(png.Length / 2)]));
        Assert.Throws<ImageRejectedException>(() => ImageDecoder.Decode(jpeg[..20]));
    }

    [Fact]
    public void Corrupt_and_foreign_files_are_rejected()
    {
        using var src = TestImages.Scene(2);
        var png = TestImages.Png(src);
        var corrupt = (byte[])png.Clone();
        for (int i = 100; i < corrupt.Length - 20; i += 7)
            corrupt[i] ^= 0x5A;
        Assert.Throws<ImageRejectedException>(() => ImageDecoder.Decode(corrupt));
        Assert.Throws<ImageRejectedException>(() => ImageDecoder.Decode([]));
        Assert.Throws<ImageRejectedException>(() => ImageDecoder.Decode("<html><body>not an image</body></html>"u8.ToArray()));
        var random = new byte[4096];
        new Random(3).NextBytes(random);
        Assert.Throws<ImageRejectedException>(() => ImageDecoder.Decode(random));
        Assert.Throws<ImageRejectedException>(() => ImageDecoder.Decode(CraftPngHeader(0, 10)));
    }

    [Fact]
    public void Jpeg_is_decoded_at_reduced_scale_on_request()
    {
        using var src = TestImages.Scene(3, 1600, 1200);
        var jpeg = TestImages.Jpeg(src);
        using var img = ImageDecoder.Decode(jpeg, minLongSide: 400);
        Assert.Equal(400, img.Bgr.Width);
        Assert.Equal(1600, img.FullWidth);
        Assert.Equal(4.0, img.ScaleToFull, 3);
    }
}
