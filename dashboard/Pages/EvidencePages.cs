using System.Globalization;
using LeakHunter.Crawler.Alerts;
using LeakHunter.Dashboard.Accounts;
using LeakHunter.Index.Hashing;
using LeakHunter.Index.Imaging;
using LeakHunter.Index.Originals;
using LeakHunter.Index.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using static LeakHunter.Dashboard.Pages.Html;

namespace LeakHunter.Dashboard.Pages;

/// <summary>
/// An original's page (its recipient copies and where it was found) and a match's evidence page
/// (found image beside the original with the matched region outlined, URLs, attribution, hashes,
/// the owner's verdict and the evidence bundle). Objects of another workspace are 404, exactly
/// like objects that do not exist.
/// </summary>
public static class EvidencePages
{
    public static IEndpointRouteBuilder MapEvidencePages(this IEndpointRouteBuilder app)
    {
        app.MapGet("/originals/{id}", async (string id, HttpContext context, IGrainFactory grains) =>
        {
            var workspace = context.WorkspaceId();
            var catalog = grains.GetGrain<IOriginalCatalogGrain>(workspace);
            if (await catalog.GetAsync(id) is not { } original) return NotFoundPage(context, "original", id);
            var copies = await catalog.ListCopiesAsync(id);
            var matches = await grains.GetGrain<IMatchLedgerGrain>(workspace).ListAsync(id, null);
            return Page(context, original.Title, OriginalBody(original, copies, matches), OriginalScript);
        }).ExcludeFromDescription();

        app.MapGet("/matches/{id}", async (string id, HttpContext context, IGrainFactory grains, IBlobStore blobs) =>
        {
            var workspace = context.WorkspaceId();
            if (await grains.GetGrain<IMatchLedgerGrain>(workspace).GetAsync(id) is not { } match) return NotFoundPage(context, "match", id);
            var original = await grains.GetGrain<IOriginalCatalogGrain>(workspace).GetAsync(match.OriginalId);
            var found = await blobs.GetAsync(FoundImages.BlobKey(match.ImageSha256));
            return Page(context, $"Match of {match.OriginalTitle}", MatchBody(match, original, FoundHashes(found)), MatchScript);
        }).ExcludeFromDescription();
        return app;
    }

    public static IResult NotFoundPage(HttpContext context, string kind, string id) =>
        Page(context, "Not found", $"<section><h1>Not found</h1><p>There is no {E(kind)} <code>{E(id)}</code> in your workspace.</p></section>",
            status: StatusCodes.Status404NotFound);

    private static string OriginalBody(OriginalInfo original, IReadOnlyList<Index.Copies.CopyInfo> copies, IReadOnlyList<MatchRecord> matches)
    {
        var copyRows = string.Concat(copies.Select(c => $"""
            <tr><td>{E(c.Recipient)}</td><td>{E(c.Note)}</td><td><code>{E(c.CopyId)}</code></td><td>{When(c.CreatedAt)}</td>
            <td><a href="/api/copies/{Uri.EscapeDataString(c.CopyId)}/download" download>Download</a></td></tr>
            """));
        var matchRows = string.Concat(matches.Select(m => $"""
            <tr class="match"><td class="pair"><a href="/matches/{Uri.EscapeDataString(m.Id)}"><img src="/api/matches/{Uri.EscapeDataString(m.Id)}/image" alt="found"></a></td>
            <td><div>page: <a href="{E(m.PageUrl)}" rel="noreferrer noopener">{E(m.PageUrl)}</a></div>
            <div>image: <a href="{E(m.ImageUrl)}" rel="noreferrer noopener">{E(m.ImageUrl)}</a></div>
            {(m.Attribution is { } a ? $"<div>leaked by <b>{E(a.Recipient)}</b></div>" : "")}</td>
            <td>{m.Score.ToString("0.000", CultureInfo.InvariantCulture)}</td><td>{When(m.FoundAt)}</td><td>{E(m.Review)}</td></tr>
            """));
        var id = Uri.EscapeDataString(original.Id);
        return $"""
            <section>
              <h1 id="original-title">{E(original.Title)}</h1>
              <div class="evidence">
                <figure><img src="/api/originals/{id}/image" alt="{E(original.Title)}"></figure>
                <div>
                  <p>{original.Width}×{original.Height} · {E(original.MediaType)} · registered {When(original.RegisteredAt)}</p>
                  <p>file: {E(original.FileName)}</p>
                  <p>SHA-256 <code>{E(original.Sha256)}</code></p>
                  <p><a href="/api/originals/{id}/image" download="{E(original.FileName)}">Download the original</a></p>
                </div>
              </div>
            </section>
            <section>
              <h2>Recipient copies</h2>
              <p class="muted">Each copy carries an invisible watermark naming it; a leaked copy tells whose it was.</p>
              <form id="copy-form" data-original="{E(original.Id)}">
                <input type="text" id="copy-recipient" placeholder="Recipient (e.g. Agency X)" required maxlength="200">
                <input type="text" id="copy-note" placeholder="Note (optional)">
                <button type="submit">Make a copy</button>
              </form>
              <div id="copy-result" class="error"></div>
              <table><thead><tr><th>Recipient</th><th>Note</th><th>Copy id</th><th>Made</th><th></th></tr></thead>
              <tbody id="copy-list">{copyRows}</tbody></table>
            </section>
            <section>
              <h2>Found at</h2>
              <table><thead><tr><th>Found</th><th>Where</th><th>Score</th><th>When</th><th>Verdict</th></tr></thead>
              <tbody id="original-matches">{(matchRows.Length == 0 ? "<tr><td colspan=5 class=muted>Not found anywhere yet.</td></tr>" : matchRows)}</tbody></table>
            </section>
            """;
    }

    private const string OriginalScript = """
        $('copy-form').addEventListener('submit', async e => {
          e.preventDefault();
          const id = e.target.dataset.original;
          const r = await json(`/api/originals/${encodeURIComponent(id)}/copies`, 'POST',
            { recipient: $('copy-recipient').value, note: $('copy-note').value || null });
          if (!r.ok) { $('copy-result').textContent = await problemText(r); return; }
          location.reload();
        });
        """;

    private static string MatchBody(MatchRecord match, OriginalInfo? original, ImageHashes? found)
    {
        var id = Uri.EscapeDataString(match.Id);
        var outline = "";
        if (original is not null && match.Transform is { Crop: [var x, var y, var w, var h] })
            outline = $"""
                <svg viewBox="0 0 {original.Width} {original.Height}" preserveAspectRatio="none" aria-label="matched region">
                  <rect id="matched-region" x="{x}" y="{y}" width="{w}" height="{h}" fill="none" stroke="#ff1744"
                        stroke-width="{Math.Max(2, original.Width / 200)}" vector-effect="non-scaling-stroke"></rect>
                </svg>
                """;
        var transform = match.Transform is { } t
            ? $"crop [{string.Join(", ", t.Crop)}], scale {t.Scale.ToString("0.###", CultureInfo.InvariantCulture)}, rotation {t.Rotation.ToString("0.#", CultureInfo.InvariantCulture)}°{(t.Mirror ? ", mirrored" : "")}"
            : "identical file";
        var attribution = match.Attribution is { } a
            ? $"""<p id="attribution">Leaked from the copy of <b class="recipient">{E(a.Recipient)}</b> (copy <code>{E(a.CopyId)}</code>, {E(a.Mode)} watermark decoding, confidence {a.Confidence.ToString("0.00", CultureInfo.InvariantCulture)})</p>"""
            : """<p id="attribution" class="muted">No recipient's watermark was read from this image.</p>""";
        var hashes = found is null ? "<p class=\"muted\">The found image is no longer stored.</p>" : $"""
            <table id="hashes">
              <tr><th>SHA-256</th><td><code>{E(found.Sha256)}</code></td></tr>
              <tr><th>PDQ</th><td><code>{E(found.Pdq.Hash.ToHex())}</code> (quality {found.Pdq.Quality})</td></tr>
              <tr><th>pHash</th><td><code>{found.PHash:x16}</code></td></tr>
              {(original is null ? "" : $"<tr><th>Original SHA-256</th><td><code>{E(original.Sha256)}</code></td></tr>")}
            </table>
            """;
        return $"""
            <section>
              <h1>Leak of <a href="/originals/{Uri.EscapeDataString(match.OriginalId)}">{E(match.OriginalTitle)}</a></h1>
              <div class="evidence">
                <figure><figcaption>Found</figcaption><img id="found-image" src="/api/matches/{id}/image" alt="found image"></figure>
                <figure><figcaption>Original, matched region outlined</figcaption>
                  <div class="frame"><img id="original-image" src="/api/originals/{Uri.EscapeDataString(match.OriginalId)}/image" alt="original">{outline}</div></figure>
              </div>
            </section>
            <section>
              <h2>Where and when</h2>
              <p>Page: <a id="page-url" href="{E(match.PageUrl)}" rel="noreferrer noopener">{E(match.PageUrl)}</a></p>
              <p>Image: <a id="image-url" href="{E(match.ImageUrl)}" rel="noreferrer noopener">{E(match.ImageUrl)}</a></p>
              <p>Found {When(match.FoundAt)} · score {match.Score.ToString("0.000", CultureInfo.InvariantCulture)} · {E(transform)}</p>
              {attribution}
            </section>
            <section>
              <h2>Hashes</h2>
              {hashes}
            </section>
            <section>
              <h2>Verdict</h2>
              <p>Current: <b id="review">{E(match.Review ?? "not reviewed")}</b>{(match.ReviewedAt is { } r ? $" <span class=muted>({When(r)})</span>" : "")}</p>
              <p class="muted">Recorded for your records; it changes nothing automatically.</p>
              <button id="confirm" data-review="confirmed">Confirm leak</button>
              <button id="false-match" data-review="false-match">Mark as false match</button>
              <button id="clear-review" data-review="">Clear</button>
              <span id="review-result" class="error"></span>
              <p><a id="evidence-bundle" href="/api/matches/{id}/evidence" download>Download the evidence bundle (ZIP: both images, the record as JSON, the page as fetched)</a></p>
            </section>
            <script>window.matchId = {System.Text.Json.JsonSerializer.Serialize(match.Id)};</script>
            """;
    }

    private const string MatchScript = """
        for (const button of document.querySelectorAll('button[data-review]')) {
          button.addEventListener('click', async () => {
            const review = button.dataset.review || null;
            const r = await json(`/api/matches/${encodeURIComponent(window.matchId)}/review`, 'POST', { review });
            if (!r.ok) { $('review-result').textContent = await problemText(r); return; }
            $('review').textContent = (await r.json()).review ?? 'not reviewed';
          });
        }
        """;

    /// <summary>Hashes of the found image for the evidence page; a picture that no longer decodes shows its SHA-256 only.</summary>
    private static ImageHashes? FoundHashes(byte[]? bytes)
    {
        if (bytes is null) return null;
        try { return ImageHashes.Compute(bytes); }
        catch (ImageRejectedException) { return null; }
    }

    private static string When(DateTimeOffset at) =>
        $"<time datetime=\"{at.UtcDateTime:O}\">{at.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture)} UTC</time>";
}
