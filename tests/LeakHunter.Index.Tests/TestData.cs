using System.Runtime.CompilerServices;
using LeakHunter.Index.Embedding;

namespace LeakHunter.Index.Tests;

/// <summary>Locates the shared data sets (reference PDQ images, LeakBench dev) from the test's working directory.</summary>
internal static class TestData
{
    public static string? SharedDir()
    {
        var env = Environment.GetEnvironmentVariable("LEAKHUNTER_SHARED");
        if (!string.IsNullOrEmpty(env) && Directory.Exists(env))
            return env;
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "shared");
            if (Directory.Exists(Path.Combine(candidate, "pdq")))
                return candidate;
            candidate = Path.Combine(dir.FullName, "..", "shared");
            if (Directory.Exists(Path.Combine(candidate, "pdq")))
                return Path.GetFullPath(candidate);
        }
        foreach (var fixedPath in new[] { "/work/shared" })
            if (Directory.Exists(Path.Combine(fixedPath, "pdq")))
                return fixedPath;
        return null;
    }

    public static string Require(params string[] parts)
    {
        var shared = SharedDir() ?? throw new InvalidOperationException("The shared data directory (with pdq/ and leakbench/) was not found; set LEAKHUNTER_SHARED.");
        return Path.Combine([shared, .. parts]);
    }

    /// <summary>The manifest of the project's default embedding model (models/ in the repository).</summary>
    public static string DefaultManifest([CallerFilePath] string source = "")
    {
        // The test binaries may live outside the repository (--artifacts-path): start from this source file.
        for (var dir = new DirectoryInfo(Path.GetDirectoryName(source)!); dir != null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "models", OnnxEmbedder.DefaultModelName + ".json");
            if (File.Exists(candidate)) return candidate;
        }
        return OnnxEmbedder.FindDefaultManifest() ?? throw new FileNotFoundException("models/leakhunter-copydetect.json not found");
    }
}
