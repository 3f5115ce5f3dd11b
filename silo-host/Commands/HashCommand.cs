using System.Text.Json;
using LeakHunter.Index.Hashing;
using LeakHunter.Index.Imaging;

namespace LeakHunter.SiloHost.Commands;

/// <summary>
/// <c>leakhunter hash FILE...</c>: one JSON object per line and file,
/// <c>{"file","sha256","pdq","pdqQuality","phash"}</c> (a stable contract; PDQ agrees with Meta's reference).
/// A file that is not a readable image gets <c>{"file","error"}</c> and the exit code is 1.
/// </summary>
public static class HashCommand
{
    public static Task<int> RunAsync(string[] args)
    {
        if (args.Length == 0)
            throw new UsageException("usage: leakhunter hash FILE...");
        foreach (var a in args)
            if (a.StartsWith("--", StringComparison.Ordinal))
                throw new UsageException($"hash: unknown option '{a}'");
        int rc = 0;
        var stdout = Console.Out;
        foreach (var file in args)
        {
            string line;
            try
            {
                var bytes = File.ReadAllBytes(file);
                var h = ImageHashes.Compute(bytes);
                line = JsonSerializer.Serialize(new { file, sha256 = h.Sha256, pdq = h.Pdq.Hash.ToHex(), pdqQuality = h.Pdq.Quality, phash = PHash.ToHex(h.PHash) });
            }
            catch (Exception e) when (e is ImageRejectedException or IOException or UnauthorizedAccessException)
            {
                line = JsonSerializer.Serialize(new { file, error = e.Message });
                rc = 1;
            }
            stdout.WriteLine(line);
        }
        return Task.FromResult(rc);
    }
}
