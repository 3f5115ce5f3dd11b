using LeakHunter.Crawler.Fetching;
using Orleans.Hosting;

namespace LeakHunter.Crawler.Alerts;

/// <summary>
/// A reminder a grain keeps while it owes work (alerts to hand over or to deliver). Grain timers die with their
/// silo; a reminder lives in the reminder table, so when the grain's silo dies a surviving silo wakes the grain
/// and the work goes on. It is registered before the owed work is written, so no crash in between leaves work
/// that nothing will wake, and dropped once nothing is owed. Period: <see cref="CrawlerOptions.KeepAlivePeriod"/>,
/// no shorter than the reminder service allows.
/// </summary>
internal sealed class OwedWorkReminder(Grain grain, string name, CrawlerOptions crawler, ReminderOptions reminders)
{
    private bool registered;

    public async Task KeepAsync()
    {
        if (registered)
            return;
        var period = crawler.KeepAlivePeriod < reminders.MinimumReminderPeriod ? reminders.MinimumReminderPeriod : crawler.KeepAlivePeriod;
        await grain.RegisterOrUpdateReminder(name, period, period);
        registered = true;
    }

    /// <summary>Drops the reminder if this activation registered it, or always when <paramref name="evenIfNotRegisteredHere"/> (a tick of one registered earlier).</summary>
    public async Task DropAsync(bool evenIfNotRegisteredHere = false)
    {
        if (!registered && !evenIfNotRegisteredHere)
            return;
        if (await grain.GetReminder(name) is { } reminder)
            await grain.UnregisterReminder(reminder);
        registered = false;
    }
}
