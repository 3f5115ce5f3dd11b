namespace LeakHunter.SiloHost.Commands;

/// <summary>Runs a LeakHunter node (silo + dashboard). Filled in by the node hosting code.</summary>
public static class NodeCommand
{
    public static Task<int> RunAsync(string[] args) => Task.FromResult(0);
}
