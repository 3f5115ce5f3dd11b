using System.Security.Cryptography;
using LeakHunter.Index.Hashing;

namespace LeakHunter.Index.Matching;

/// <summary>A rectangle in the normalised frame of an original.</summary>
internal readonly record struct WindowRect(int X, int Y, int W, int H);

/// <summary>Everything the matcher keeps about one registered original.</summary>
internal sealed class OriginalEntry
{
    public required string Id { get; init; }
    public required string Sha256 { get; init; }
    public required int Width { get; init; }
    public required int Height { get; init; }

    /// <summary>Full-resolution pixels per pixel of the normalised frame the features live in.</summary>
    public required double NormScale { get; init; }
    public required int NormWidth { get; init; }
    public required int NormHeight { get; init; }

    public required PdqResult Pdq { get; init; }
    public required PdqResult PdqMirror { get; init; }
    public required ulong PHash { get; init; }
    public required ulong PHashMirror { get; init; }

    /// <summary>Window 0 is the whole picture; the rest are sub-windows at several scales.</summary>
    public required WindowRect[] Windows { get; init; }
    public required Hash256[] WindowPdq { get; init; }
    public required ulong[] WindowPHash { get; init; }

    public required FeatureSet Features { get; init; }

    public int Slot { get; set; } = -1;

    public OriginalFingerprint ToFingerprint() => new(Id, Sha256, Width, Height);

    private static readonly byte[] Magic = "LHFP"u8.ToArray();
    private const int Version = 1;

    public byte[] Serialize()
    {
        using var ms = new MemoryStream();
        using (var w = new BinaryWriter(ms, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            w.Write(Magic);
            w.Write(Version);
            w.Write(Id);
            w.Write(Sha256);
            w.Write(Width);
            w.Write(Height);
            w.Write(NormScale);
            w.Write(NormWidth);
            w.Write(NormHeight);
            WritePdq(w, Pdq);
            WritePdq(w, PdqMirror);
            w.Write(PHash);
            w.Write(PHashMirror);
            w.Write(Windows.Length);
            for (int i = 0; i < Windows.Length; i++)
            {
                w.Write(Windows[i].X); w.Write(Windows[i].Y); w.Write(Windows[i].W); w.Write(Windows[i].H);
                WriteHash(w, WindowPdq[i]);
                w.Write(WindowPHash[i]);
            }
            w.Write(Features.Count);
            foreach (var v in Features.X) w.Write(v);
            foreach (var v in Features.Y) w.Write(v);
            w.Write(Features.Descriptors);
        }
        var body = ms.ToArray();
        var digest = SHA256.HashData(body);
        return [.. body, .. digest];
    }

    public static OriginalEntry Deserialize(byte[] data)
    {
        if (data.Length < 40)
            throw new InvalidDataException("fingerprint file too short");
        var body = data.AsSpan(0, data.Length - 32);
        if (!SHA256.HashData(body).AsSpan().SequenceEqual(data.AsSpan(data.Length - 32)))
            throw new InvalidDataException("fingerprint checksum mismatch");
        using var r = new BinaryReader(new MemoryStream(data, 0, data.Length - 32));
        if (!r.ReadBytes(4).AsSpan().SequenceEqual(Magic) || r.ReadInt32() != Version)
            throw new InvalidDataException("not a fingerprint file of this version");
        string id = r.ReadString(), sha = r.ReadString();
        int width = r.ReadInt32(), height = r.ReadInt32();
        double normScale = r.ReadDouble();
        int nw = r.ReadInt32(), nh = r.ReadInt32();
        var pdq = ReadPdq(r);
        var pdqM = ReadPdq(r);
        ulong ph = r.ReadUInt64(), phM = r.ReadUInt64();
        int nWin = r.ReadInt32();
        var windows = new WindowRect[nWin];
        var wPdq = new Hash256[nWin];
        var wPh = new ulong[nWin];
        for (int i = 0; i < nWin; i++)
        {
            windows[i] = new WindowRect(r.ReadInt32(), r.ReadInt32(), r.ReadInt32(), r.ReadInt32());
            wPdq[i] = ReadHash(r);
            wPh[i] = r.ReadUInt64();
        }
        int n = r.ReadInt32();
        var x = new float[n];
        var y = new float[n];
        for (int i = 0; i < n; i++) x[i] = r.ReadSingle();
        for (int i = 0; i < n; i++) y[i] = r.ReadSingle();
        var desc = r.ReadBytes(n * FeatureSet.DescriptorBytes);
        if (desc.Length != n * FeatureSet.DescriptorBytes)
            throw new InvalidDataException("fingerprint file truncated");
        return new OriginalEntry
        {
            Id = id, Sha256 = sha, Width = width, Height = height, NormScale = normScale, NormWidth = nw, NormHeight = nh,
            Pdq = pdq, PdqMirror = pdqM, PHash = ph, PHashMirror = phM,
            Windows = windows, WindowPdq = wPdq, WindowPHash = wPh, Features = new FeatureSet(x, y, desc),
        };
    }

    private static void WriteHash(BinaryWriter w, Hash256 h)
    {
        w.Write(h.A); w.Write(h.B); w.Write(h.C); w.Write(h.D);
    }

    private static Hash256 ReadHash(BinaryReader r) => new(r.ReadUInt64(), r.ReadUInt64(), r.ReadUInt64(), r.ReadUInt64());

    private static void WritePdq(BinaryWriter w, PdqResult p)
    {
        WriteHash(w, p.Hash);
        w.Write(p.Quality);
    }

    private static PdqResult ReadPdq(BinaryReader r) => new(ReadHash(r), r.ReadInt32());

    public long ApproximateBytes =>
        200 + Windows.Length * (16 + 32 + 8) + Features.Count * (8 + FeatureSet.DescriptorBytes);
}
