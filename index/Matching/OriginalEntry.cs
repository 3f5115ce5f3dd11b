using System.Security.Cryptography;
using LeakHunter.Index.Hashing;
using OpenCvSharp;

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

    /// <summary>
    /// Embeddings of the <see cref="Embedding.CopyWindows"/> and the model they come from, when the
    /// matcher has an embedder. Kept in the fingerprint file so the vector index can be rebuilt from
    /// fingerprints alone; dropped from memory once they are in the index.
    /// </summary>
    public float[][]? WindowEmbeddings { get; set; }
    public string? EmbeddingModel { get; init; }

    /// <summary>Gray thumbnail of the normalised frame (see <see cref="PixelAgreement"/>); absent in version 1 files.</summary>
    public byte[]? Thumbnail { get; init; }
    public int ThumbnailWidth { get; init; }
    public int ThumbnailHeight { get; init; }

    public int Slot { get; set; } = -1;

    public OriginalFingerprint ToFingerprint() => new(Id, Sha256, Width, Height);

    private static readonly byte[] Magic = "LHFP"u8.ToArray();
    /// <summary>Version 2 adds the window embeddings and the thumbnail; version 1 files (without them) still load.</summary>
    private const int Version = 2;

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
            w.Write(EmbeddingModel ?? "");
            var embeddings = WindowEmbeddings ?? [];
            w.Write(embeddings.Length);
            w.Write(embeddings.Length == 0 ? 0 : embeddings[0].Length);
            foreach (var vector in embeddings)
                foreach (var v in vector) w.Write((Half)v);
            w.Write(Thumbnail is null ? 0 : ThumbnailWidth);
            w.Write(Thumbnail is null ? 0 : ThumbnailHeight);
            if (Thumbnail is not null) w.Write(Thumbnail);
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
        if (!r.ReadBytes(4).AsSpan().SequenceEqual(Magic))
            throw new InvalidDataException("not a fingerprint file");
        int version = r.ReadInt32();
        if (version is < 1 or > Version)
            throw new InvalidDataException($"fingerprint file version {version} is not supported");
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
        string? model = null;
        float[][]? embeddings = null;
        byte[]? thumbnail = null;
        int tw = 0, th = 0;
        if (version >= 2)
        {
            model = r.ReadString();
            int count = r.ReadInt32(), dimension = r.ReadInt32();
            if (count < 0 || count > 4096 || dimension < 0 || dimension > 65536)
                throw new InvalidDataException("fingerprint file has an implausible embedding section");
            embeddings = new float[count][];
            for (int i = 0; i < count; i++)
            {
                embeddings[i] = new float[dimension];
                for (int j = 0; j < dimension; j++) embeddings[i][j] = (float)r.ReadHalf();
            }
            if (model.Length == 0 || count == 0) (model, embeddings) = (null, null);
            tw = r.ReadInt32();
            th = r.ReadInt32();
            if (tw < 0 || th < 0 || tw > 4096 || th > 4096)
                throw new InvalidDataException("fingerprint file has an implausible thumbnail");
            if (tw > 0 && th > 0)
            {
                thumbnail = r.ReadBytes(tw * th);
                if (thumbnail.Length != tw * th) throw new InvalidDataException("fingerprint file truncated");
            }
        }
        return new OriginalEntry
        {
            Id = id, Sha256 = sha, Width = width, Height = height, NormScale = normScale, NormWidth = nw, NormHeight = nh,
            Pdq = pdq, PdqMirror = pdqM, PHash = ph, PHashMirror = phM,
            Windows = windows, WindowPdq = wPdq, WindowPHash = wPh, Features = new FeatureSet(x, y, desc),
            EmbeddingModel = model, WindowEmbeddings = embeddings,
            Thumbnail = thumbnail, ThumbnailWidth = tw, ThumbnailHeight = th,
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
        200 + Windows.Length * (16 + 32 + 8) + Features.Count * (8 + FeatureSet.DescriptorBytes) + (Thumbnail?.Length ?? 0);

    /// <summary>The thumbnail's pixels as they are stored (null for version 1 fingerprints).</summary>
    public GrayPixels? ThumbnailPixels => Thumbnail is null ? null : new GrayPixels(Thumbnail, ThumbnailWidth, ThumbnailHeight);
}
