namespace LeakHunter.SiloHost.Hosting;

/// <summary>What a <c>leakhunter</c> process is.</summary>
public enum NodeRole
{
    /// <summary>One node on its own: silo and dashboard in one process, state in files. The default.</summary>
    Standalone,
    /// <summary>A cluster silo (Redis membership and state): crawls and matches; serves only /healthz.</summary>
    Silo,
    /// <summary>The dashboard and API as an Orleans client of a cluster.</summary>
    Dashboard,
}
