using System.Diagnostics;
using System.Net.Sockets;

namespace LeakHunter.EndToEnd.Tests;

/// <summary>A real Debian redis-server on a free loopback port in a temporary directory, stopped on dispose.</summary>
public sealed class RedisServer : IAsyncDisposable
{
    private readonly Process process;
    private readonly string directory;

    public int Port { get; }
    public string Endpoint => $"127.0.0.1:{Port}";

    private RedisServer(Process process, string directory, int port)
    {
        this.process = process;
        this.directory = directory;
        Port = port;
    }

    public static async Task<RedisServer> StartAsync()
    {
        var directory = Directory.CreateTempSubdirectory("leakhunter-redis-").FullName;
        var port = TestNode.FreePort();
        var start = new ProcessStartInfo("redis-server")
        {
            ArgumentList = { "--port", port.ToString(), "--bind", "127.0.0.1", "--dir", directory, "--save", "", "--appendonly", "no" },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        Process process;
        try
        {
            process = Process.Start(start) ?? throw new InvalidOperationException("redis-server did not start");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException("redis-server is not installed: run scripts/install-deps.sh", e);
        }
        process.OutputDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var server = new RedisServer(process, directory, port);
        await Polling.UntilAsync(async () => await server.RespondsAsync(), up => up, TimeSpan.FromSeconds(20), "redis-server to accept connections");
        return server;
    }

    private async Task<bool> RespondsAsync()
    {
        try
        {
            using var client = new TcpClient();
            await client.ConnectAsync("127.0.0.1", Port);
            var stream = client.GetStream();
            await stream.WriteAsync("PING\r\n"u8.ToArray());
            var buffer = new byte[16];
            var read = await stream.ReadAsync(buffer);
            return System.Text.Encoding.ASCII.GetString(buffer, 0, read).StartsWith("+PONG");
        }
        catch (SocketException)
        {
            return false;
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
        Directory.Delete(directory, recursive: true);
    }
}
