using LeakHunter.SiloHost.Commands;

try
{
    var verb = CliVerbs.Find(args);
    if (verb is { } found)
        return await found.Run(found.VerbArgs);
    // No verb: options only (or nothing) means "run a node".
    if (args.Length == 0 || args[0].StartsWith('-'))
        return await NodeCommand.RunAsync(args);
    throw new UsageException($"unknown verb '{args[0]}'; verbs: {string.Join(", ", CliVerbs.All.Keys.Order())}");
}
catch (UsageException e)
{
    Console.Error.WriteLine($"leakhunter: {e.Message}");
    return 2;
}
