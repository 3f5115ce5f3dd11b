using System.Diagnostics;

namespace LeakHunter.EndToEnd.Tests;

/// <summary>
/// A cluster silo as its own OS process: <c>dotnet leakhunter.dll silo --redis …</c>, the build
/// output the tests reference, with its output in a log file in its data directory.
/// </summary>
public sealed class SiloProcess : IAsyncDisposable
{
    private readonly Process process;
    private readonly StreamWriter log;

    public int SiloPort { get; }
    /// <summary>Opens once the silo is active: clients may connect from then on.</summary>
    public int GatewayPort { get; }
    public string DataDirectory { get; }
    public string LogFile => Path.Combine(DataDirectory, "silo.log");
    /// <summary>The silo's endpoint as the cluster names it (address:silo port).</summary>
    public string Endpoint => $"127.0.0.1:{SiloPort}";
    public bool HasExited => process.HasExited;

    public bool GatewayOpen()
    {
        try
        {
            using var client = new System.Net.Sockets.TcpClient();
            client.Connect(System.Net.IPAddress.Loopback, GatewayPort);
            return true;
        }
        catch (System.Net.Sockets.SocketException)
        {
            return false;
        }
    }

    private SiloProcess(Process process, StreamWriter log, int siloPort, int gatewayPort, string dataDirectory)
    {
        GatewayPort = gatewayPort;
        this.process = process;
        this.log = log;
        SiloPort = siloPort;
        DataDirectory = dataDirectory;
    }

    /// <summary>The built <c>leakhunter.dll</c>: copied beside the tests, else the silo-host's own output.</summary>
    public static string LeakHunterDll()
    {
        var here = Path.Combine(AppContext.BaseDirectory, "leakhunter.dll");
        if (File.Exists(here) && File.Exists(Path.Combine(AppContext.BaseDirectory, "leakhunter.runtimeconfig.json"))) return here;
        var sibling = Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "..", "..", "LeakHunter.SiloHost", new DirectoryInfo(AppContext.BaseDirectory).Name, "leakhunter.dll"));
        return File.Exists(sibling) ? sibling : throw new FileNotFoundException("build silo-host first: leakhunter.dll not found", here);
    }

    public static SiloProcess Start(string redis, string dataDirectory, IReadOnlyDictionary<string, string> environment)
    {
        Directory.CreateDirectory(dataDirectory);
        var siloPort = TestNode.FreePort();
        var gatewayPort = TestNode.FreePort();
        var start = new ProcessStartInfo("dotnet")
        {
            ArgumentList =
            {
                LeakHunterDll(), "silo", "--redis", redis, "--data", dataDirectory,
                "--silo-port", siloPort.ToString(), "--gateway-port", gatewayPort.ToString(), "--advertise", "127.0.0.1",
            },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = dataDirectory,
        };
        foreach (var (name, value) in environment) start.Environment[name] = value;
        var process = Process.Start(start) ?? throw new InvalidOperationException("dotnet did not start");
        var log = new StreamWriter(Path.Combine(dataDirectory, "silo.log")) { AutoFlush = true };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.WriteLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.WriteLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return new SiloProcess(process, log, siloPort, gatewayPort, dataDirectory);
    }

    /// <summary>Kills the process at once, as a crash would: no graceful shutdown, no goodbye to the cluster.</summary>
    public void Kill()
    {
        if (!process.HasExited) process.Kill(entireProcessTree: true);
        process.WaitForExit(10_000);
    }

    /// <summary>The log's last lines, stack frames left out (a retried exception would fill the tail).</summary>
    public string LogTail(int lines = 30)
    {
        lock (log)
        {
            using var stream = new FileStream(LogFile, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            return string.Join('\n', new StreamReader(stream).ReadToEnd().Split('\n')
                .Where(line => !line.TrimStart().StartsWith("at ", StringComparison.Ordinal)).TakeLast(lines));
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
        process.Dispose();
        lock (log) log.Dispose();
    }
}
