using LeakHunter.Index.Watermark;
using Microsoft.Extensions.Configuration;

namespace LeakHunter.Index.Copies;

/// <summary>
/// The deployment's watermark key, from <c>Watermark:Key</c> (hex or base64) or
/// <c>Watermark:KeyFile</c>. A standalone node without either makes one in its data directory
/// (readable by its owner only) on first start. A cluster must be given one, shared by every
/// process: without it, copies cannot be made and leaks are not attributed.
/// </summary>
public sealed class WatermarkKeyProvider
{
    private readonly WatermarkKey? key;

    public WatermarkKeyProvider(WatermarkKey? key, string? problem)
    {
        this.key = key;
        Problem = problem;
    }

    /// <summary>Why there is no key, when there is none.</summary>
    public string? Problem { get; }

    public bool HasKey => key is not null;

    public WatermarkKey Key => key ?? throw new InvalidOperationException(Problem);

    public static WatermarkKeyProvider FromConfiguration(IConfiguration configuration, string dataDirectory, bool createIfMissing)
    {
        if (configuration["Watermark:Key"] is { Length: > 0 } text) return new(WatermarkKey.Parse(text), null);
        if (configuration["Watermark:KeyFile"] is { Length: > 0 } file) return new(WatermarkKey.FromFile(file), null);
        var local = Path.Combine(dataDirectory, "watermark.key");
        if (File.Exists(local)) return new(WatermarkKey.FromFile(local), null);
        if (!createIfMissing)
            return new(null, "no watermark key: set Watermark:KeyFile (or Watermark:Key) to the same key on every process");
        var secret = System.Security.Cryptography.RandomNumberGenerator.GetBytes(WatermarkKey.Length);
        var created = WatermarkKey.FromBytes(secret);
        var hex = Convert.ToHexStringLower(secret);
        using (var stream = new FileStream(local, FileMode.CreateNew, FileAccess.Write, FileShare.None))
        {
            if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(local, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            stream.Write(System.Text.Encoding.ASCII.GetBytes(hex));
        }
        return new(created, null);
    }
}
