using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace LeakHunter.Dashboard.Pages;

/// <summary>
/// The dashboard: one page whose sections (originals, targets, matches, webhooks) are filled
/// from the HTTP API by a small script, so the page and the API can never disagree.
/// Target progress refreshes itself every two seconds.
/// </summary>
public static class DashboardPage
{
    public static IEndpointRouteBuilder MapDashboardPages(this IEndpointRouteBuilder app)
    {
        app.MapGet("/", () => Results.Content(Html, "text/html; charset=utf-8")).ExcludeFromDescription();
        app.MapGet("/dashboard.js", () => Results.Content(Script, "text/javascript; charset=utf-8")).ExcludeFromDescription();
        return app;
    }

    private const string Html = """
<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>LeakHunter</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
  body { font-family: system-ui, sans-serif; margin: 0; background: #f5f6f8; color: #1d2330; }
  header { background: #1d2330; color: #fff; padding: 12px 24px; font-size: 20px; }
  main { max-width: 1100px; margin: 0 auto; padding: 16px 24px; }
  section { background: #fff; border-radius: 8px; padding: 16px; margin-bottom: 16px; box-shadow: 0 1px 2px #0002; }
  h2 { margin-top: 0; font-size: 18px; }
  .grid { display: flex; flex-wrap: wrap; gap: 12px; }
  .card { width: 180px; font-size: 12px; }
  .card form input { width: 110px; }
  .copies { list-style: none; padding: 0; margin: 4px 0; }
  .card img { width: 160px; height: 120px; object-fit: cover; border-radius: 4px; background: #ddd; }
  table { border-collapse: collapse; width: 100%; font-size: 14px; }
  td, th { text-align: left; padding: 6px; border-bottom: 1px solid #eee; vertical-align: top; }
  .pair img { max-width: 180px; max-height: 140px; margin-right: 8px; border: 1px solid #ccc; }
  .error { color: #b00020; white-space: pre-wrap; }
  input[type=text], input[type=url], input[type=number], select { padding: 4px; }
  .muted { color: #777; }
</style>
</head>
<body>
<header>LeakHunter</header>
<main>
<section id="originals">
  <h2>Protected originals</h2>
  <form id="upload-form">
    <input type="file" id="files" name="files" accept="image/*" multiple>
    <input type="text" id="title" name="title" placeholder="Title (optional)">
    <button type="submit">Register</button>
  </form>
  <div id="upload-result" class="error"></div>
  <div id="original-list" class="grid"></div>
</section>
<section id="targets">
  <h2>Crawl targets</h2>
  <form id="target-form">
    <input type="url" id="target-url" placeholder="https://forum.example/section" size="40" required>
    <select id="target-scope"><option>host</option><option>domain</option><option>urls</option></select>
    depth <input type="number" id="target-depth" value="2" min="0" max="20" style="width:4em">
    pages <input type="number" id="target-pages" value="100" min="1" style="width:6em">
    <button type="submit">Add target</button>
  </form>
  <div id="target-result" class="error"></div>
  <table><thead><tr><th>URL</th><th>State</th><th>Pages</th><th>Images</th><th>Matches</th><th>Errors</th></tr></thead>
  <tbody id="target-list"></tbody></table>
</section>
<section id="matches">
  <h2>Matches</h2>
  <table><thead><tr><th>Found / original</th><th>Where</th><th>Score</th><th>When</th></tr></thead>
  <tbody id="match-list"></tbody></table>
</section>
<section id="webhooks">
  <h2>Webhooks</h2>
  <form id="webhook-form">
    <input type="url" id="webhook-url" placeholder="https://hooks.example/leakhunter" size="40" required>
    <input type="text" id="webhook-secret" placeholder="Secret (16+ characters)" size="30" required>
    <button type="submit">Add webhook</button>
  </form>
  <div id="webhook-result" class="error"></div>
  <ul id="webhook-list"></ul>
</section>
</main>
<script src="/dashboard.js"></script>
</body>
</html>
""";

    private const string Script = """
'use strict';
const $ = id => document.getElementById(id);
const text = s => { const span = document.createElement('span'); span.textContent = s ?? ''; return span.innerHTML; };

async function problemText(response) {
  try {
    const p = await response.json();
    const lines = [p.detail || p.title || response.statusText];
    for (const [field, reasons] of Object.entries(p.errors || {})) lines.push(`${field}: ${reasons.join('; ')}`);
    return lines.join('\n');
  } catch { return `${response.status} ${response.statusText}`; }
}

async function loadOriginals() {
  const originals = await (await fetch('/api/originals')).json();
  $('original-list').innerHTML = originals.map(o => `
    <div class="card" data-id="${text(o.id)}">
      <img src="/api/originals/${encodeURIComponent(o.id)}/image" alt="${text(o.title)}" loading="lazy">
      <div><b>${text(o.title)}</b></div><div class="muted">${o.width}×${o.height}</div>
      <form class="copy-form" data-id="${text(o.id)}"><input type="text" placeholder="Recipient" required><button>Copy</button></form>
      <ul class="copies" id="copies-${text(o.id)}"></ul>
    </div>`).join('');
  await Promise.all(originals.map(o => loadCopies(o.id)));
  return originals;
}

async function loadCopies(id) {
  const copies = await (await fetch(`/api/originals/${encodeURIComponent(id)}/copies`)).json();
  const list = document.getElementById(`copies-${id}`);
  if (list) list.innerHTML = copies.map(c => `<li>${text(c.recipient)} <a href="${text(c.downloadUrl)}" download>download</a></li>`).join('');
}

$('original-list').addEventListener('submit', async e => {
  e.preventDefault();
  const form = e.target, input = form.querySelector('input');
  const r = await fetch(`/api/originals/${encodeURIComponent(form.dataset.id)}/copies`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ recipient: input.value }) });
  $('upload-result').textContent = r.ok ? '' : await problemText(r);
  if (r.ok) { input.value = ''; await loadCopies(form.dataset.id); }
});

async function loadTargets() {
  const targets = await (await fetch('/api/targets')).json();
  $('target-list').innerHTML = targets.map(t => `
    <tr data-id="${text(t.id)}"><td>${text(t.url)} <span class="muted">(${text(t.scope)})</span></td>
    <td class="state">${text(t.state)}</td><td>${t.pagesFetched}</td><td>${t.imagesSeen}</td>
    <td>${t.matches}</td><td title="${text(t.lastError)}">${t.errors}</td></tr>`).join('');
}

async function loadMatches() {
  const matches = await (await fetch('/api/matches')).json();
  $('match-list').innerHTML = matches.map(m => `
    <tr data-id="${text(m.id)}"><td class="pair">
      <img src="/api/matches/${encodeURIComponent(m.id)}/image" alt="found">
      <img src="/api/originals/${encodeURIComponent(m.originalId)}/image" alt="original"></td>
    <td><div><b>${text(m.originalTitle)}</b>${m.attribution ? ` — leaked by <b class="recipient">${text(m.attribution.recipient)}</b> (${text(m.attribution.mode)})` : ''}</div>
      <div>page: <a href="${text(m.pageUrl)}" rel="noreferrer noopener">${text(m.pageUrl)}</a></div>
      <div>image: <a href="${text(m.imageUrl)}" rel="noreferrer noopener">${text(m.imageUrl)}</a></div></td>
    <td>${m.score.toFixed(3)}</td><td>${new Date(m.foundAt).toLocaleString()}</td></tr>`).join('');
}

async function loadWebhooks() {
  const hooks = await (await fetch('/api/webhooks')).json();
  $('webhook-list').innerHTML = hooks.map(h => `<li>${text(h.url)} <button data-id="${text(h.id)}">remove</button></li>`).join('');
}

$('upload-form').addEventListener('submit', async e => {
  e.preventDefault();
  const form = new FormData();
  for (const f of $('files').files) form.append('files', f);
  if ($('title').value) form.append('title', $('title').value);
  const r = await fetch('/api/originals', { method: 'POST', body: form });
  $('upload-result').textContent = r.ok ? '' : await problemText(r);
  if (r.ok) { $('upload-form').reset(); await loadOriginals(); }
});

$('target-form').addEventListener('submit', async e => {
  e.preventDefault();
  const body = { url: $('target-url').value, scope: $('target-scope').value,
    maxDepth: Number($('target-depth').value), maxPages: Number($('target-pages').value) };
  if (body.scope === 'urls') body.urls = [body.url];
  const r = await fetch('/api/targets', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  $('target-result').textContent = r.ok ? '' : await problemText(r);
  if (r.ok) await loadTargets();
});

$('webhook-form').addEventListener('submit', async e => {
  e.preventDefault();
  const body = { url: $('webhook-url').value, secret: $('webhook-secret').value };
  const r = await fetch('/api/webhooks', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  $('webhook-result').textContent = r.ok ? '' : await problemText(r);
  if (r.ok) { $('webhook-form').reset(); await loadWebhooks(); }
});

$('webhook-list').addEventListener('click', async e => {
  if (e.target.dataset.id) { await fetch(`/api/webhooks/${encodeURIComponent(e.target.dataset.id)}`, { method: 'DELETE' }); await loadWebhooks(); }
});

loadOriginals(); loadTargets(); loadMatches(); loadWebhooks();
setInterval(() => { loadTargets(); loadMatches(); }, 2000);
""";
}
