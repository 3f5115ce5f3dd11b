using LeakHunter.SiloHost.Hosting;

namespace LeakHunter.SiloHost.Commands;

/// <summary>Runs a LeakHunter node until Ctrl-C (or SIGTERM), then stops it cleanly.</summary>
public static class NodeCommand
{
    public static async Task<int> RunAsync(string[] args)
    {
        await using var app = NodeHost.Build(args);
        await app.RunAsync();
        return 0;
    }
}
