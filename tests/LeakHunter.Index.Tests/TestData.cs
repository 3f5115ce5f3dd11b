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
}
