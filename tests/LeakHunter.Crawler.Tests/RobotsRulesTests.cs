using LeakHunter.Crawler.Robots;

namespace LeakHunter.Crawler.Tests;

public sealed class RobotsRulesTests
{
    private static bool Allowed(string robots, string path, string agent = "LeakHunterBot") =>
        RobotsRules.Parse(robots, agent).IsAllowed(new Uri("https://example.com" + path));

    [Theory]
    [InlineData("/", true)]
    [InlineData("/private", false)]
    [InlineData("/private/x.jpg", false)]
    [InlineData("/privateer", false)]   // a rule is a prefix, not a directory
    [InlineData("/public/private", true)]
    public void Disallow_is_a_path_prefix(string path, bool allowed) =>
        Assert.Equal(allowed, Allowed("User-agent: *\nDisallow: /private\n", path));

    [Fact]
    public void The_longest_match_wins_and_allow_wins_ties()
    {
        const string robots = "User-agent: *\nDisallow: /forum/\nAllow: /forum/public/\nAllow: /a\nDisallow: /a\n";
        Assert.False(Allowed(robots, "/forum/secret"));
        Assert.True(Allowed(robots, "/forum/public/1"));
        Assert.True(Allowed(robots, "/a"));
    }

    [Fact]
    public void Our_group_replaces_the_star_group()
    {
        const string robots = "User-agent: *\nDisallow: /\n\nUser-agent: leakhunterbot\nDisallow: /admin\n";
        Assert.True(Allowed(robots, "/gallery"));
        Assert.False(Allowed(robots, "/admin"));
        Assert.False(Allowed(robots, "/gallery", agent: "OtherBot"));
    }

    [Fact]
    public void Consecutive_user_agent_lines_share_a_group_and_groups_for_us_merge()
    {
        const string robots = "User-agent: a\nUser-agent: LeakHunterBot\nDisallow: /x\n\nUser-agent: LeakHunterBot\nDisallow: /y\n";
        Assert.False(Allowed(robots, "/x"));
        Assert.False(Allowed(robots, "/y"));
        Assert.True(Allowed(robots, "/z"));
    }

    [Theory]
    [InlineData("/img/a.jpg", false)]
    [InlineData("/img/a.jpg?size=1", true)]   // $ anchors the end
    [InlineData("/img/a.png", true)]
    [InlineData("/x/thumbs/y", false)]
    public void Star_and_dollar_patterns(string path, bool allowed) =>
        Assert.Equal(allowed, Allowed("User-agent: *\nDisallow: /*.jpg$\nDisallow: /*/thumbs/\n", path));

    [Fact]
    public void Percent_escapes_compare_case_insensitively_and_non_ascii_is_escaped()
    {
        Assert.False(Allowed("User-agent: *\nDisallow: /a%2fb\n", "/a%2Fb"));
        Assert.False(Allowed("User-agent: *\nDisallow: /caf%C3%A9\n", "/café"));
    }

    [Fact]
    public void Comments_empty_disallow_crawl_delay_and_sitemaps()
    {
        var rules = RobotsRules.Parse("# hi\nUser-agent: * # all\nDisallow:\nCrawl-delay: 2.5\nSitemap: https://example.com/s.xml\n", "LeakHunterBot");
        Assert.True(rules.IsAllowed(new Uri("https://example.com/anything")));
        Assert.Equal(TimeSpan.FromSeconds(2.5), rules.CrawlDelay);
        Assert.Equal(new Uri("https://example.com/s.xml"), Assert.Single(rules.Sitemaps));
    }

    [Fact]
    public void Robots_txt_itself_is_always_allowed_and_the_fallbacks_behave()
    {
        Assert.True(Allowed("User-agent: *\nDisallow: /\n", "/robots.txt"));
        Assert.False(RobotsRules.DisallowAll.IsAllowed(new Uri("https://example.com/a")));
        Assert.True(RobotsRules.AllowAll.IsAllowed(new Uri("https://example.com/a")));
    }

    [Fact]
    public void Garbage_does_not_throw()
    {
        var rules = RobotsRules.Parse(new string('*', 100_000) + "\n::::\nDisallow /x\nUser-agent:\n\0\0", "LeakHunterBot");
        Assert.True(rules.IsAllowed(new Uri("https://example.com/x")));
    }
}
