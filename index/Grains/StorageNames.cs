namespace LeakHunter.Index.Grains;

/// <summary>The name of the grain storage every LeakHunter grain persists its state in.</summary>
public static class StorageNames
{
    public const string State = "leakhunter";
}
