using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using static LeakHunter.Dashboard.Pages.Html;

namespace LeakHunter.Dashboard.Pages;

/// <summary>
/// The workspace's dashboard: drag-and-drop registration with per-file progress, the gallery of
/// originals with search, targets and matches kept live over SignalR, and webhooks. Its data
/// comes from the HTTP API, so the page and the API never disagree.
/// </summary>
public static class DashboardPage
{
    public static IEndpointRouteBuilder MapDashboardPages(this IEndpointRouteBuilder app)
    {
        app.MapGet("/", (HttpContext context) => Page(context, "Dashboard", Body, Script, live: true)).ExcludeFromDescription();
        return app;
    }

    private const string Body = """
        <section id="originals">
          <h2>Protected originals</h2>
          <div class="dropzone" id="dropzone">Drop pictures here, or <label><u>choose files</u><input type="file" id="files" accept="image/*" multiple hidden></label></div>
          <ul class="uploads" id="uploads"></ul>
          <p><input type="search" id="search" placeholder="Search titles" size="30"></p>
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
          <table><thead><tr><th>URL</th><th>State</th><th>Pages</th><th>Images</th><th>Matches</th><th>Errors</th><th>Pages per silo</th></tr></thead>
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
        """;

    private const string Script = """
        let originals = [];

        function renderOriginals() {
          const q = $('search').value.trim().toLowerCase();
          $('original-list').innerHTML = originals.filter(o => !q || o.title.toLowerCase().includes(q)).map(o => `
            <div class="card" data-id="${text(o.id)}">
              <a href="/originals/${encodeURIComponent(o.id)}"><img src="/api/originals/${encodeURIComponent(o.id)}/thumbnail" alt="${text(o.title)}" loading="lazy"></a>
              <div><b class="title">${text(o.title)}</b></div><div class="muted">${o.width}×${o.height}</div>
            </div>`).join('');
        }
        async function loadOriginals() { originals = await (await api('/api/originals')).json(); renderOriginals(); }
        $('search').addEventListener('input', renderOriginals);

        // Each dropped file is its own upload, so one refused file never holds the others back.
        function upload(file) {
          const item = document.createElement('li');
          item.textContent = `${file.name}: 0 %`;
          $('uploads').appendChild(item);
          const form = new FormData();
          form.append('files', file);
          const xhr = new XMLHttpRequest();
          xhr.open('POST', '/api/originals');
          xhr.setRequestHeader('X-CSRF-TOKEN', csrf);
          xhr.upload.onprogress = e => { if (e.lengthComputable) item.textContent = `${file.name}: ${Math.round(100 * e.loaded / e.total)} %`; };
          xhr.onload = () => {
            if (xhr.status === 200) { item.className = 'ok'; item.textContent = `${file.name}: registered`; loadOriginals(); return; }
            let reason = `${xhr.status}`;
            try { const p = JSON.parse(xhr.responseText); reason = Object.values(p.errors || {}).flat().join('; ') || p.detail || reason; } catch {}
            item.className = 'error'; item.textContent = `${file.name}: refused — ${reason}`;
          };
          xhr.onerror = () => { item.className = 'error'; item.textContent = `${file.name}: upload failed`; };
          xhr.send(form);
        }
        const zone = $('dropzone');
        zone.addEventListener('dragover', e => { e.preventDefault(); zone.classList.add('over'); });
        zone.addEventListener('dragleave', () => zone.classList.remove('over'));
        zone.addEventListener('drop', e => { e.preventDefault(); zone.classList.remove('over'); [...e.dataTransfer.files].forEach(upload); });
        $('files').addEventListener('change', e => { [...e.target.files].forEach(upload); e.target.value = ''; });

        function renderProgress(p) {
          $('target-list').innerHTML = p.targets.map(t => `
            <tr data-id="${text(t.id)}"><td>${text(t.url)} <span class="muted">(${text(t.scope)})</span></td>
            <td class="state">${text(t.state)}</td><td class="pages">${t.pagesFetched}</td><td class="images">${t.imagesSeen}</td>
            <td class="match-count">${t.matches}</td><td title="${text(t.lastError)}">${t.errors}</td>
            <td class="muted">${Object.entries(t.pagesBySilo || {}).map(([silo, n]) => `${text(silo)}: ${n}`).join('<br>')}</td></tr>`).join('');
          $('match-list').innerHTML = p.matches.map(m => `
            <tr data-id="${text(m.id)}" class="match"><td class="pair">
              <a href="/matches/${encodeURIComponent(m.id)}"><img src="/api/matches/${encodeURIComponent(m.id)}/image" alt="found"></a>
              <img src="/api/originals/${encodeURIComponent(m.originalId)}/thumbnail" alt="original"></td>
            <td><div><a href="/matches/${encodeURIComponent(m.id)}"><b>${text(m.originalTitle)}</b></a>${m.attribution ? ` — leaked by <b class="recipient">${text(m.attribution.recipient)}</b>` : ''}${m.review ? ` <span class="muted">[${text(m.review)}]</span>` : ''}</div>
              <div>page: <a href="${text(m.pageUrl)}" rel="noreferrer noopener">${text(m.pageUrl)}</a></div>
              <div>image: <a href="${text(m.imageUrl)}" rel="noreferrer noopener">${text(m.imageUrl)}</a></div></td>
            <td>${m.score.toFixed(3)}</td><td>${new Date(m.foundAt).toLocaleString()}</td></tr>`).join('');
        }

        $('target-form').addEventListener('submit', async e => {
          e.preventDefault();
          const body = { url: $('target-url').value, scope: $('target-scope').value,
            maxDepth: Number($('target-depth').value), maxPages: Number($('target-pages').value) };
          if (body.scope === 'urls') body.urls = [body.url];
          const r = await json('/api/targets', 'POST', body);
          $('target-result').textContent = r.ok ? '' : await problemText(r);
        });

        async function loadWebhooks() {
          const hooks = await (await api('/api/webhooks')).json();
          $('webhook-list').innerHTML = hooks.map(h => `<li>${text(h.url)} <button data-id="${text(h.id)}">remove</button></li>`).join('');
        }
        $('webhook-form').addEventListener('submit', async e => {
          e.preventDefault();
          const r = await json('/api/webhooks', 'POST', { url: $('webhook-url').value, secret: $('webhook-secret').value });
          $('webhook-result').textContent = r.ok ? '' : await problemText(r);
          if (r.ok) { $('webhook-form').reset(); await loadWebhooks(); }
        });
        $('webhook-list').addEventListener('click', async e => {
          if (e.target.dataset.id) { await api(`/api/webhooks/${encodeURIComponent(e.target.dataset.id)}`, { method: 'DELETE' }); await loadWebhooks(); }
        });

        const connection = new signalR.HubConnectionBuilder()
          // negotiate is a POST made with the session cookie: it carries the anti-forgery token like every write
          .withUrl('/hubs/progress', { headers: { 'X-CSRF-TOKEN': csrf } }).withAutomaticReconnect().build();
        connection.on('progress', renderProgress);
        connection.start();
        loadOriginals(); loadWebhooks();
        """;
}
