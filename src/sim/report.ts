import type { SimRun } from './driver.js';

/** A self-contained HTML page: the summary and, per pool, wanted vs running workers over time. */
export function renderReport(run: SimRun): string {
  const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c] as string);
  const pools = run.summary.pools.map((p) => p.pool);
  const charts = pools.map((pool) => {
    const points = run.samples.map((s) => ({ t: s.t, ...(s.pools[pool] ?? { wanted: 0, running: 0, pending: 0, spot: 0, onDemand: 0 }) }));
    const width = 900;
    const height = 220;
    const t0 = points[0]?.t ?? 0;
    const t1 = points[points.length - 1]?.t ?? t0 + 1;
    const max = Math.max(1, ...points.map((p) => Math.max(p.wanted, p.running + p.pending)));
    const x = (t: number) => ((t - t0) / Math.max(1, t1 - t0)) * (width - 40) + 30;
    const y = (v: number) => height - 20 - (v / max) * (height - 40);
    const line = (key: 'wanted' | 'running' | 'onDemand', color: string) =>
      `<polyline fill="none" stroke="${color}" stroke-width="1.5" points="${points.map((p) => `${x(p.t).toFixed(1)},${y(p[key]).toFixed(1)}`).join(' ')}"/>`;
    return `<h2>${esc(pool)}</h2><svg width="${width}" height="${height}" role="img" aria-label="${esc(pool)} wanted and running workers">
<line x1="30" y1="${height - 20}" x2="${width - 10}" y2="${height - 20}" stroke="#999"/><text x="2" y="${y(max) + 4}" font-size="10">${max}</text>
${line('wanted', '#888')}${line('running', '#1f77b4')}${line('onDemand', '#d62728')}</svg>
<p class="legend"><span style="color:#888">■ wanted</span> <span style="color:#1f77b4">■ running</span> <span style="color:#d62728">■ on-demand</span></p>`;
  });
  return `<!doctype html><html><head><meta charset="utf-8"><title>fleet simulation</title>
<style>body{font-family:system-ui,sans-serif;margin:2em;max-width:960px}pre{background:#f6f6f6;padding:1em}.legend{font-size:12px}</style></head>
<body><h1>fleet simulation</h1><p>Simulated cloud: generated prices, capacity and demand; not AWS.</p>
<pre>${esc(JSON.stringify(run.summary, null, 2))}</pre>${charts.join('\n')}</body></html>\n`;
}
