using LeakHunter.Index.Imaging;
using LeakHunter.Index.Originals;
using LeakHunter.Index.Storage;
using OpenCvSharp;

namespace LeakHunter.Dashboard.Api;

/// <summary>
/// Small JPEG previews for the gallery, made once per original and kept in the blob store: a
/// gallery of 20-megapixel photos must not send 20 megapixels per card.
/// </summary>
public static class Thumbnails
{
    public const int LongSide = 360;

    public static async Task<byte[]?> GetOrMakeAsync(IBlobStore blobs, string originalId)
    {
        var key = OriginalCatalogGrain.ThumbnailBlobKey(originalId);
        if (await blobs.GetAsync(key) is { } cached) return cached;
        if (await blobs.GetAsync(OriginalCatalogGrain.BlobKey(originalId)) is not { } original) return null;
        var thumbnail = Make(original);
        await blobs.PutAsync(key, thumbnail);
        return thumbnail;
    }

    public static byte[] Make(byte[] image)
    {
        // A JPEG is decoded at reduced scale: only what the thumbnail needs.
        using var decoded = ImageDecoder.Decode(image, ImageDecoder.DefaultMaxPixels, LongSide);
        var source = decoded.Bgr;
        var scale = Math.Min(1.0, (double)LongSide / Math.Max(source.Width, source.Height));
        using var small = new Mat();
        Cv2.Resize(source, small, new Size(Math.Max(1, (int)(source.Width * scale)), Math.Max(1, (int)(source.Height * scale))),
            interpolation: InterpolationFlags.Area);
        return small.ImEncode(".jpg", new ImageEncodingParam(ImwriteFlags.JpegQuality, 82));
    }
}
