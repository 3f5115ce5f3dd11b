using LeakHunter.Index.Imaging;
using LeakHunter.Index.Storage;
using LeakHunter.Index.Watermark;
using OpenCvSharp;

namespace LeakHunter.Index.Copies;

/// <summary>
/// Makes a recipient's copy: the original with the recipient's watermark, in the original's
/// format (JPEG stays JPEG at <see cref="JpegQuality"/>, PNG stays PNG; other formats become
/// PNG so the copy can carry XMP), with XMP rights metadata and no EXIF at all.
/// </summary>
public static class CopyMaker
{
    public const int JpegQuality = 93;

    public static (byte[] Bytes, string MediaType) Make(byte[] original, uint payload, WatermarkKey key, CopyRequest request)
    {
        var mediaType = MediaTypeSniffer.SniffImage(original);
        if (mediaType is not ("image/jpeg" or "image/png"))
        {
            using var decoded = Cv2.ImDecode(original, ImreadModes.Unchanged);
            if (decoded.Empty()) throw new ImageRejectedException("the original could not be decoded");
            original = decoded.ImEncode(".png");
            mediaType = "image/png";
        }
        var marked = WatermarkEmbedder.Embed(original, payload, key, JpegQuality);
        var withXmp = XmpWriter.Insert(marked, XmpWriter.Packet(request.DataMining, request.Copyright, request.Creator));
        return (withXmp, mediaType);
    }
}
