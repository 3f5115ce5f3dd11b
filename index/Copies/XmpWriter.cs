using System.Buffers.Binary;
using System.IO.Hashing;
using System.Security;
using System.Text;

namespace LeakHunter.Index.Copies;

/// <summary>
/// Writes an XMP packet (PLUS Data Mining, copyright, creator) into a JPEG (APP1 segment after
/// SOI) or a PNG (iTXt chunk "XML:com.adobe.xmp" after IHDR). The images it is given come from
/// OpenCV's encoder, which writes no EXIF at all, so no GPS position, camera serial number or
/// other private field survives into a copy.
/// </summary>
public static class XmpWriter
{
    private static readonly byte[] JpegXmpNamespace = Encoding.ASCII.GetBytes("http://ns.adobe.com/xap/1.0/\0");

    public static string Packet(string dataMining, string? copyright, string? creator)
    {
        static string E(string s) => SecurityElement.Escape(s);
        var rights = copyright is null ? "" : $"""
              <dc:rights><rdf:Alt><rdf:li xml:lang="x-default">{E(copyright)}</rdf:li></rdf:Alt></dc:rights>
            """;
        var author = creator is null ? "" : $"""
              <dc:creator><rdf:Seq><rdf:li>{E(creator)}</rdf:li></rdf:Seq></dc:creator>
            """;
        return $"""
            <?xpacket begin="﻿" id="W5M0MpCehiHzreSzNTczkc9d"?>
            <x:xmpmeta xmlns:x="adobe:ns:meta/">
             <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
              <rdf:Description rdf:about=""
                xmlns:dc="http://purl.org/dc/elements/1.1/"
                xmlns:plus="http://ns.useplus.org/ldf/xmp/1.0/"
                xmlns:xmpRights="http://ns.adobe.com/xap/1.0/rights/">
               <plus:DataMining>http://ns.useplus.org/ldf/vocab/{E(dataMining)}</plus:DataMining>
               <xmpRights:Marked>True</xmpRights:Marked>
            {rights}{author}  </rdf:Description>
             </rdf:RDF>
            </x:xmpmeta>
            <?xpacket end="w"?>
            """;
    }

    public static byte[] Insert(byte[] image, string packet)
    {
        var xmp = Encoding.UTF8.GetBytes(packet);
        if (image is [0xFF, 0xD8, ..]) return InsertJpeg(image, xmp);
        if (image.Length > 33 && image[1] == (byte)'P' && image[2] == (byte)'N' && image[3] == (byte)'G') return InsertPng(image, xmp);
        throw new NotSupportedException("XMP can be written into JPEG and PNG copies only");
    }

    private static byte[] InsertJpeg(byte[] jpeg, byte[] xmp)
    {
        var length = 2 + JpegXmpNamespace.Length + xmp.Length;
        if (length > ushort.MaxValue) throw new ArgumentException("XMP packet too large for one JPEG segment");
        using var output = new MemoryStream(jpeg.Length + length + 2);
        output.Write(jpeg, 0, 2);                     // SOI
        output.Write([0xFF, 0xE1, (byte)(length >> 8), (byte)length]);
        output.Write(JpegXmpNamespace);
        output.Write(xmp);
        output.Write(jpeg, 2, jpeg.Length - 2);
        return output.ToArray();
    }

    private static byte[] InsertPng(byte[] png, byte[] xmp)
    {
        const int afterHeader = 8 + 25;                // signature + IHDR chunk (4 length, 4 type, 13 data, 4 CRC)
        var data = new MemoryStream();
        data.Write(Encoding.ASCII.GetBytes("XML:com.adobe.xmp"));
        data.Write([0, 0, 0, 0, 0]);                   // keyword end, no compression, method, empty language, empty translated keyword
        data.Write(xmp);
        var body = data.ToArray();
        var type = "iTXt"u8.ToArray();
        var crc = new Crc32();
        crc.Append(type);
        crc.Append(body);
        using var output = new MemoryStream(png.Length + body.Length + 12);
        output.Write(png, 0, afterHeader);
        Span<byte> word = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(word, body.Length);
        output.Write(word);
        output.Write(type);
        output.Write(body);
        BinaryPrimitives.WriteUInt32BigEndian(word, crc.GetCurrentHashAsUInt32());
        output.Write(word);
        output.Write(png, afterHeader, png.Length - afterHeader);
        return output.ToArray();
    }
}
