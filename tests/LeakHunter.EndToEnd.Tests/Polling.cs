namespace LeakHunter.EndToEnd.Tests;

/// <summary>Waits for a condition by polling, up to a deadline; never a fixed sleep.</summary>
public static class Polling
{
    public static async Task<T> UntilAsync<T>(Func<Task<T>> probe, Func<T, bool> done, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var value = await probe();
            if (done(value)) return value;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"timed out after {timeout.TotalSeconds:0} s waiting for {what}; last value: {value}");
            await Task.Delay(100);
        }
    }
}
