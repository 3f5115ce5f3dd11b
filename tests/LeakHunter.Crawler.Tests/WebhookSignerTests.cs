using System.Security.Cryptography;
using System.Text;
using LeakHunter.Crawler.Alerts;

namespace LeakHunter.Crawler.Tests;

public sealed class WebhookSignerTests
{
    private const string Secret = "whsec-0123456789abcdef";
    private const string Body = """{"event":"leak.found","id":"m1"}""";

    [Fact]
    public void The_signature_is_an_hmac_of_timestamp_dot_body()
    {
        var header = WebhookSigner.Sign(Secret, 1_700_000_000, Body);
        var mac = HMACSHA256.HashData(Encoding.UTF8.GetBytes(Secret), Encoding.UTF8.GetBytes("1700000000." + Body));
        Assert.Equal($"t=1700000000,v1={Convert.ToHexStringLower(mac)}", header);
    }

    [Fact]
    public void Verification_refuses_another_secret_a_changed_body_and_an_old_timestamp()
    {
        var now = DateTimeOffset.FromUnixTimeSeconds(1_700_000_000);
        var header = WebhookSigner.Sign(Secret, now.ToUnixTimeSeconds(), Body);
        var tolerance = TimeSpan.FromMinutes(5);
        Assert.True(WebhookSigner.Verify(Secret, header, Body, now, tolerance));
        Assert.False(WebhookSigner.Verify("whsec-another-secret", header, Body, now, tolerance));
        Assert.False(WebhookSigner.Verify(Secret, header, Body + " ", now, tolerance));
        Assert.False(WebhookSigner.Verify(Secret, header, Body, now.AddMinutes(10), tolerance));
        Assert.False(WebhookSigner.Verify(Secret, "garbage", Body, now, tolerance));
    }
}
