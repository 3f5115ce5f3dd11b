using System.Globalization;
using LeakHunter.Dashboard.Accounts;
using LeakHunter.Dashboard.Api;
using LeakHunter.Dashboard.Operations;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using static LeakHunter.Dashboard.Pages.Html;

namespace LeakHunter.Dashboard.Pages;

/// <summary>The workspace's API keys, and the cluster page: silos, their load and the work they did.</summary>
public static class OperationsPages
{
    public static IEndpointRouteBuilder MapOperationsPages(this IEndpointRouteBuilder app)
    {
        app.MapGet("/keys", (HttpContext context) => Page(context, "API keys", KeysBody, KeysScript)).ExcludeFromDescription();

        app.MapGet("/cluster", async (HttpContext context, IGrainFactory grains) =>
        {
            var view = await ClusterApi.GetViewAsync(grains, context.WorkspaceId());
            var loads = await SiloLoads.ReadAsync(grains);
            var rows = string.Concat(view.Silos.Select(s =>
            {
                var load = loads.GetValueOrDefault(s.Silo);
                return $"""
                    <tr class="silo"><td><code>{E(s.Endpoint)}</code></td><td>{E(s.Name)}</td><td class="status">{E(s.Status)}</td>
                    <td>{(s.StartedAt is { } at ? at.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) + " UTC" : "")}</td>
                    <td class="pages">{s.PagesFetched}</td><td>{s.ImagesFetched}</td><td>{s.ImagesMatched}</td><td>{s.OriginalsKnown}</td>
                    <td>{(load?.CpuPercent is { } c ? c.ToString("0.0", CultureInfo.InvariantCulture) + " %" : "–")}</td>
                    <td>{(load?.MemoryBytes is { } m ? (m / 1048576.0).ToString("0", CultureInfo.InvariantCulture) + " MiB" : "–")}</td>
                    <td>{(load is null ? "–" : load.Activations.ToString(CultureInfo.InvariantCulture))}</td></tr>
                    """;
            }));
            return Page(context, "Cluster", $"""
                <section>
                  <h1>Cluster</h1>
                  <p>{view.ActiveSilos} active silo{(view.ActiveSilos == 1 ? "" : "s")}; {view.PagesFetched} pages and {view.ImagesFetched} images fetched,
                  {view.ImagesMatched} images matched. A cluster grows by starting another silo against the same Redis.</p>
                  <table><thead><tr><th>Silo</th><th>Name</th><th>Status</th><th>Started</th><th>Pages</th><th>Images fetched</th><th>Images matched</th>
                  <th>Originals known</th><th>CPU</th><th>Memory</th><th>Activations</th></tr></thead>
                  <tbody id="silo-list">{rows}</tbody></table>
                  <p class="muted">Work is reported by each silo every few seconds. Figures for Prometheus: <a href="/metrics">/metrics</a>; JSON: <a href="/api/cluster">/api/cluster</a>.</p>
                </section>
                """);
        }).ExcludeFromDescription();
        return app;
    }

    private const string KeysBody = """
        <section>
          <h1>API keys</h1>
          <p>Programs call the HTTP API with <code>Authorization: Bearer &lt;key&gt;</code>. A key works in this workspace only.
          It is shown once, when it is made; LeakHunter keeps only its hash.</p>
          <form id="key-form">
            <input type="text" id="key-name" placeholder="What the key is for" required maxlength="100">
            <button type="submit">Make a key</button>
          </form>
          <p id="new-key" class="ok"></p>
          <div id="key-result" class="error"></div>
          <table><thead><tr><th>Name</th><th>Key</th><th>Made</th><th>Revoked</th><th></th></tr></thead><tbody id="key-list"></tbody></table>
        </section>
        """;

    private const string KeysScript = """
        async function loadKeys() {
          const keys = await (await api('/api/apikeys')).json();
          $('key-list').innerHTML = keys.map(k => `<tr><td>${text(k.name)}</td><td><code>${text(k.prefix)}</code></td>
            <td>${new Date(k.createdAt).toLocaleString()}</td><td>${k.revokedAt ? new Date(k.revokedAt).toLocaleString() : ''}</td>
            <td>${k.revokedAt ? '' : `<button data-id="${text(k.id)}">Revoke</button>`}</td></tr>`).join('');
        }
        $('key-form').addEventListener('submit', async e => {
          e.preventDefault();
          const r = await json('/api/apikeys', 'POST', { name: $('key-name').value });
          if (!r.ok) { $('key-result').textContent = await problemText(r); return; }
          const created = await r.json();
          $('new-key').innerHTML = `New key (copy it now; it is not shown again): <code>${text(created.key)}</code>`;
          $('key-form').reset();
          await loadKeys();
        });
        $('key-list').addEventListener('click', async e => {
          if (e.target.dataset.id) { await api(`/api/apikeys/${encodeURIComponent(e.target.dataset.id)}`, { method: 'DELETE' }); await loadKeys(); }
        });
        loadKeys();
        """;
}
