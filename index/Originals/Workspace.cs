namespace LeakHunter.Index.Originals;

/// <summary>
/// Everything an owner registers or finds belongs to a workspace; grains that hold per-owner
/// lists are keyed by the workspace name. Until accounts exist there is one.
/// </summary>
public static class Workspace
{
    public const string Default = "default";
}
