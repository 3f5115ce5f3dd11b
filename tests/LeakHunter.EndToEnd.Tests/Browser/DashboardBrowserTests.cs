using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace LeakHunter.EndToEnd.Tests.Browser;

/// <summary>
/// The dashboard in a real browser: first-run setup, sign-in, drag-and-drop registration of
/// several files (one refused), a target against a loopback forum, the match appearing on the
/// open page without a reload, its evidence page; then a second user in another workspace who
/// sees only their own pictures.
/// </summary>
[Collection(NodeCollection.Name)]
public sealed class DashboardBrowserTests : IAsyncLifetime
{
    private const string AdminPassword = "a long admin password";
    private const string BobPassword = "bob's long password";
    private readonly string dataDirectory = Directory.CreateTempSubdirectory("leakhunter-browser-").FullName;
    private readonly byte[] leaked = TestImages.Scene(seed: 21);
    private LoopbackSite forum = null!;

    public async Task InitializeAsync()
    {
        var copy = TestImages.ResizedJpeg(leaked, 0.6, 70);
        forum = await LoopbackSite.StartAsync(app =>
        {
            app.MapGet("/", () => Results.Content("<html><body><a href='/thread'>thread</a></body></html>", "text/html"));
            app.MapGet("/thread", () => Results.Content("<html><body><p>new pics</p><img src='/up/leak.jpg'></body></html>", "text/html"));
            app.MapGet("/up/leak.jpg", () => Results.Bytes(copy, "image/jpeg"));
        });
    }

    public async Task DisposeAsync()
    {
        await forum.DisposeAsync();
        Directory.Delete(dataDirectory, recursive: true);
    }

    [Fact]
    public async Task An_owner_sets_up_registers_by_drag_and_drop_watches_a_match_arrive_and_opens_its_evidence()
    {
        await using var node = await TestNode.StartAsync(dataDirectory);
        await using var browser = await BrowserSession.StartAsync();
        var alice = await browser.NewPersonAsync(node.BaseUrl);
        try
        {
            await OwnerStoryAsync(node, browser, alice);
        }
        catch
        {
            await BrowserSession.ScreenshotAsync(alice, "failed");
            throw;
        }
    }

    private async Task OwnerStoryAsync(TestNode node, BrowserSession browser, IPage alice)
    {

        // First run: any page leads to the setup of the administrator.
        await alice.GotoAsync("/");
        await Expect(alice).ToHaveURLAsync(new Regex("/setup$"));
        await BrowserSession.ScreenshotAsync(alice, "01-setup");
        await alice.FillAsync("#username", "alice");
        await alice.FillAsync("#password", AdminPassword);
        await alice.ClickAsync("#setup-form button[type=submit]");
        await Expect(alice.Locator("#dropzone")).ToBeVisibleAsync();

        // Sign out and in again.
        await alice.ClickAsync("nav form button");
        await Expect(alice).ToHaveURLAsync(new Regex("/login$"));
        await alice.FillAsync("#username", "alice");
        await alice.FillAsync("#password", "not the password");
        await alice.ClickAsync("#login-form button[type=submit]");
        await Expect(alice.Locator(".error")).ToContainTextAsync("wrong username or password");
        await alice.FillAsync("#username", "alice");
        await alice.FillAsync("#password", AdminPassword);
        await alice.ClickAsync("#login-form button[type=submit]");
        await Expect(alice.Locator("#dropzone")).ToBeVisibleAsync();

        // Drag and drop three pictures and one file that is not a picture.
        await DropFilesAsync(alice,
            ("leaked.png", "image/png", leaked),
            ("beach.png", "image/png", TestImages.Scene(seed: 22)),
            ("party.jpg", "image/jpeg", TestImages.Scene(seed: 23, ".jpg")),
            ("notes.txt", "text/plain", "not a picture"u8.ToArray()));
        await Expect(alice.Locator("#uploads li.ok")).ToHaveCountAsync(3);
        await Expect(alice.Locator("#uploads li.error")).ToHaveCountAsync(1);
        await Expect(alice.Locator("#uploads li.error")).ToContainTextAsync("notes.txt: refused");
        await Expect(alice.Locator("#original-list .card")).ToHaveCountAsync(3);
        var thumbnail = alice.Locator("#original-list .card img").First;
        await Expect(thumbnail).ToHaveJSPropertyAsync("complete", true);
        var thumbnailWidth = await thumbnail.EvaluateAsync<int>("img => img.naturalWidth");
        Assert.InRange(thumbnailWidth, 1, LeakHunter.Dashboard.Api.Thumbnails.LongSide);
        await alice.FillAsync("#search", "beach");
        await Expect(alice.Locator("#original-list .card")).ToHaveCountAsync(1);
        await alice.FillAsync("#search", "");
        // Dropping the same picture again is refused as a duplicate.
        await DropFilesAsync(alice, ("again.png", "image/png", leaked));
        await Expect(alice.Locator("#uploads li.error")).ToHaveCountAsync(2);
        await Expect(alice.Locator("#uploads li.error").Last).ToContainTextAsync("duplicate");
        await BrowserSession.ScreenshotAsync(alice, "02-registered");

        // Add a target and watch the match arrive on the open page, with no reload.
        await alice.EvaluateAsync("() => window.stillTheSamePage = true");
        await alice.FillAsync("#target-url", forum.BaseUrl.ToString());
        await alice.ClickAsync("#target-form button[type=submit]");
        await Expect(alice.Locator("#target-list tr .state")).ToHaveTextAsync("done", new() { Timeout = 60_000 });
        await Expect(alice.Locator("#match-list tr.match")).ToHaveCountAsync(1, new() { Timeout = 60_000 });
        Assert.True(await alice.EvaluateAsync<bool>("() => window.stillTheSamePage === true"), "the page was reloaded");
        await Expect(alice.Locator("#target-list tr .pages")).ToHaveTextAsync("2");
        await BrowserSession.ScreenshotAsync(alice, "03-match-live");

        // The evidence page.
        await alice.ClickAsync("#match-list tr.match a");
        await Expect(alice).ToHaveURLAsync(new Regex("/matches/[0-9a-f]+$"));
        await Expect(alice.Locator("#page-url")).ToHaveTextAsync(new Uri(forum.BaseUrl, "thread").AbsoluteUri);
        await Expect(alice.Locator("#image-url")).ToHaveTextAsync(new Uri(forum.BaseUrl, "up/leak.jpg").AbsoluteUri);
        await Expect(alice.Locator("#matched-region")).ToHaveCountAsync(1);
        await Expect(alice.Locator("#hashes")).ToContainTextAsync("PDQ");
        Assert.True(await alice.Locator("#found-image").EvaluateAsync<bool>("img => img.complete && img.naturalWidth > 0"));
        await alice.ClickAsync("#confirm");
        await Expect(alice.Locator("#review")).ToHaveTextAsync("confirmed");
        var download = await alice.RunAndWaitForDownloadAsync(() => alice.ClickAsync("#evidence-bundle"));
        Assert.EndsWith(".zip", download.SuggestedFilename);
        await BrowserSession.ScreenshotAsync(alice, "04-evidence");
        var leakedOriginalPath = await alice.Locator("h1 a").GetAttributeAsync("href");

        // Invite bob into another workspace: he sees only his own pictures, and not alice's by URL.
        await alice.GotoAsync("/admin");
        await alice.FillAsync("#invite-username", "bob");
        await alice.FillAsync("#invite-password", BobPassword);
        await alice.SelectOptionAsync("#invite-workspace", "new");
        await alice.FillAsync("#invite-new-workspace", "Agency");
        await alice.ClickAsync("#invite-form button[type=submit]");
        await Expect(alice.Locator("#user-list")).ToContainTextAsync("Agency");

        var bob = await browser.NewPersonAsync(node.BaseUrl);
        await bob.GotoAsync("/login");
        await bob.FillAsync("#username", "bob");
        await bob.FillAsync("#password", BobPassword);
        await bob.ClickAsync("#login-form button[type=submit]");
        await Expect(bob.Locator("#dropzone")).ToBeVisibleAsync();
        await DropFilesAsync(bob, ("bobs.png", "image/png", TestImages.Scene(seed: 24)));
        await Expect(bob.Locator("#original-list .card")).ToHaveCountAsync(1);
        await Expect(bob.Locator("#match-list tr.match")).ToHaveCountAsync(0);
        var response = await bob.GotoAsync(leakedOriginalPath!);
        Assert.Equal(404, response!.Status);
        await BrowserSession.ScreenshotAsync(bob, "05-other-workspace");

        await alice.GotoAsync("/");
        await Expect(alice.Locator("#original-list .card")).ToHaveCountAsync(3);
    }

    /// <summary>What a person does with the mouse: a drop event carrying files, on the drop zone.</summary>
    private static Task DropFilesAsync(IPage page, params (string Name, string Type, byte[] Bytes)[] files) =>
        page.EvaluateAsync("""
            files => {
              const transfer = new DataTransfer();
              for (const f of files) {
                const bytes = Uint8Array.from(atob(f.base64), c => c.charCodeAt(0));
                transfer.items.add(new File([bytes], f.name, { type: f.type }));
              }
              const zone = document.getElementById('dropzone');
              zone.dispatchEvent(new DragEvent('dragover', { dataTransfer: transfer, bubbles: true, cancelable: true }));
              zone.dispatchEvent(new DragEvent('drop', { dataTransfer: transfer, bubbles: true, cancelable: true }));
            }
            """, files.Select(f => new { name = f.Name, type = f.Type, base64 = Convert.ToBase64String(f.Bytes) }).ToArray());
}
