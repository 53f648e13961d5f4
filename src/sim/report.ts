// `fleet sim --report FILE.html`: one self-contained page (uPlot, its CSS, the data and the script
// that draws the charts are all inlined), so it opens offline and can be mailed or archived as is.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { countsText } from './causes.js';
import type { SimRun } from './driver.js';
import { CLIENT_SCRIPT } from './report-client.js';
import { type ReportData, reportData } from './report-data.js';
import type { SimSummary } from './summary.js';

/** The charts of each pool, in page order: the key names the chart's element (`pool/kind`). */
export const POOL_CHARTS = [
  {
    kind: 'lifecycle',
    title: 'Capacity by lifecycle',
    caption: 'Live workers, stacked: spot and on-demand running, then pending; the dashed line is what the job queue wanted.',
  },
  {
    kind: 'images',
    title: 'Capacity by image',
    caption: 'Live workers, stacked by the status of their image: current, outdated (a previous image), drained.',
  },
  {
    kind: 'price',
    title: 'Price per worker-hour',
    caption: 'What the pool paid per worker-hour against the cheapest spot offer and the cheapest on-demand price of its offers.',
  },
  {
    kind: 'cost',
    title: 'Cumulative cost',
    caption: 'Dollars spent since the start, against the same hours all on demand and the hindsight optimum.',
  },
  {
    kind: 'jobs',
    title: 'Jobs against capacity',
    caption: 'The simulated CI’s jobs, stacked: running, then waiting for a worker; the dashed line is the running workers.',
  },
  {
    kind: 'wait',
    title: 'Longest wait',
    caption: 'Minutes the longest-waiting job had been queued (since it arrived, or since its worker ended under it).',
  },
  {
    kind: 'events',
    title: 'Launches and ends',
    caption: 'Above the axis: workers launched. Below: spot interruptions and workers fleet ended.',
  },
] as const;

export function renderReport(run: SimRun): string {
  const { summary } = run;
  const data = reportData(run);
  const assets = uplotAssets();
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>fleet simulation ${esc(summary.start)} → ${esc(summary.end)}</title>
<style>${assets.css}</style>
<style>${PAGE_CSS}</style>
</head>
<body>
<header>
  <h1>fleet simulation report</h1>
  <p class="run">${esc(fmtTime(summary.start))} → ${esc(fmtTime(summary.end))} · seed ${summary.seed} · ${summary.cycles} cycles${summary.failedCycles > 0 ? `, <strong>${summary.failedCycles} failed</strong>` : ''}</p>
  <p class="simulated"><strong>Simulated cloud.</strong> Every figure on this page comes from fleet's built-in simulation of AWS (its spot market, capacity, interruptions and CI demand), not from an AWS account. The real reconciler ran unchanged against it.</p>
</header>
${headline(summary)}
${poolTable(summary)}
${data.pools.map((p) => poolSection(p.pool, summary, data)).join('\n')}
<footer>Charts: uPlot ${esc(assets.version)} (MIT). Hover a chart to read every series at that moment; the cursor follows on all charts.${data.cyclesPerPoint > 1 ? ` Each point averages ${data.cyclesPerPoint} cycles.` : ''}</footer>
<script type="application/json" id="fleet-report-data">${jsonForScript(data)}</script>
<script>${inlineScript(assets.js)}</script>
<script>${inlineScript(CLIENT_SCRIPT)}</script>
</body></html>
`;
}

interface Tile {
  readonly label: string;
  readonly value: string;
  readonly note: string;
  readonly tone?: 'good' | 'bad';
}

function headline(s: SimSummary): string {
  const refused = Object.values(s.api.failed).reduce((a, b) => a + b, 0);
  const saved = s.onDemandCost > 0 ? 1 - s.cost / s.onDemandCost : undefined;
  const aboveOptimum = s.hindsightCost > 0 ? s.cost / s.hindsightCost - 1 : undefined;
  const tiles: Tile[] = [
    {
      label: 'Cost',
      value: money(s.cost),
      note:
        saved === undefined
          ? 'no on-demand price to compare'
          : `${pct(Math.abs(saved))} ${saved >= 0 ? 'below' : 'above'} all on-demand (${money(s.onDemandCost)})`,
      ...(saved !== undefined ? { tone: saved >= 0 ? ('good' as const) : ('bad' as const) } : {}),
    },
    {
      label: 'Against the hindsight optimum',
      value: aboveOptimum === undefined ? '–' : `${aboveOptimum >= 0 ? '+' : ''}${pct(aboveOptimum)}`,
      note: `optimum ${money(s.hindsightCost)}: every worker-hour at the cheapest spot price of that moment`,
    },
    { label: 'Spot share', value: pct(s.spotShare), note: `of ${s.instanceHours} instance-hours` },
    {
      label: 'Interruptions',
      value: String(s.interruptions),
      note: 'spot workers reclaimed by the market',
      ...(s.interruptions > 0 ? { tone: 'bad' as const } : {}),
    },
    {
      label: 'Unmet worker-minutes',
      value: String(s.unmetWorkerMinutes),
      note: `${pct(s.unmetShare)} of wanted worker-minutes had no running worker`,
      ...(s.unmetShare > 0.05 ? { tone: 'bad' as const } : {}),
    },
    {
      label: 'Jobs completed',
      value: String(s.jobs.completed),
      note: `wait p50 ${s.jobs.waitSeconds.p50} s, p95 ${s.jobs.waitSeconds.p95} s · ${s.jobs.costPerJob === null ? 'no job completed' : `$${s.jobs.costPerJob.toFixed(3)} per job`}`,
    },
    {
      label: 'Jobs killed',
      value: String(Object.values(s.jobs.killed).reduce((a, b) => a + b, 0)),
      note: `${s.jobs.lostJobMinutes} worker-minutes lost${
        Object.keys(s.jobs.killed).length > 0
          ? ` (${Object.entries(s.jobs.killed)
              .map(([cause, n]) => `${cause} ${n}`)
              .join(', ')})`
          : ''
      }`,
      ...(Object.keys(s.jobs.killed).length > 0 ? { tone: 'bad' as const } : {}),
    },
    {
      label: 'API calls',
      value: String(s.api.total),
      note: `${refused} refused${
        refused > 0
          ? ` (${Object.entries(s.api.failed)
              .map(([code, n]) => `${code} ${n}`)
              .join(', ')})`
          : ''
      } · ${s.api.perQuietCycle} per quiet cycle`,
      ...(refused > 0 ? { tone: 'bad' as const } : {}),
    },
    {
      label: 'Drained images',
      value: String(s.drained.length),
      note:
        s.drained.length === 0
          ? 'none'
          : `by ${Object.entries(countBy(s.drained.map((d) => d.by)))
              .map(([by, n]) => `${by} ${n}`)
              .join(', ')}; listed below`,
      ...(s.drained.length > 0 ? { tone: 'bad' as const } : {}),
    },
  ];
  return `<section class="tiles" aria-label="headline figures (simulated)">
${tiles.map((t) => `<div class="tile${t.tone ? ` ${t.tone}` : ''}"><div class="label">${esc(t.label)}</div><div class="value">${esc(t.value)}</div><div class="note">${esc(t.note)}</div></div>`).join('\n')}
</section>`;
}

function poolTable(s: SimSummary): string {
  const head = [
    'pool',
    'spot launches',
    'on-demand launches',
    'interrupted',
    'left idle',
    'ended by fleet',
    'boot failures',
    'peak wanted',
    'unmet',
    'outdated at end',
    'cost',
    'hindsight optimum',
    'jobs',
    'wait p95',
    'jobs killed',
    'lost job-minutes',
    '$ per job',
    'idle worker-hours',
  ];
  const rows = s.pools.map((p) =>
    [
      `<a href="#pool-${esc(p.pool)}">${esc(p.pool)}</a>`,
      p.launches.spot,
      p.launches.onDemand,
      p.interruptions,
      p.leftIdle,
      p.terminatedByFleet,
      p.bootFailures,
      p.peakWanted,
      `${p.unmetWorkerMinutes} min (${pct(p.unmetShare)})`,
      p.outdatedAtEnd,
      money(p.cost),
      money(p.hindsightCost),
      p.jobs.completed,
      `${p.jobs.waitSeconds.p95} s`,
      Object.values(p.jobs.killed).reduce((a, b) => a + b, 0),
      p.jobs.lostJobMinutes,
      p.jobs.costPerJob === null ? '–' : `$${p.jobs.costPerJob.toFixed(3)}`,
      p.idleWorkerHours,
    ].map((cell, i) => (i === 0 ? `<th scope="row">${cell}</th>` : `<td>${typeof cell === 'string' ? esc(cell) : cell}</td>`)),
  );
  const zones =
    Object.entries(s.launchesPerZone)
      .map(([az, n]) => `${az} ${n}`)
      .join(', ') || 'none';
  return `<section class="pools"><table>
<thead><tr>${head.map((h) => `<th scope="col">${esc(h)}</th>`).join('')}</tr></thead>
<tbody>${rows.map((r) => `<tr>${r.join('')}</tr>`).join('\n')}</tbody>
</table>
<p class="zones">Launches per zone: ${esc(zones)}</p>${causeTable(s)}${drainedList(s)}</section>`;
}

/** Launches and ended workers by cause, per pool: fleet's by its action's cause, the rest as EC2 says. */
function causeTable(s: SimSummary): string {
  const row = (name: string, c: { launched: SimSummary['launched']; ended: SimSummary['ended'] }) =>
    `<tr><th scope="row">${esc(name)}</th><td>${esc(countsText(c.launched))}</td><td>${esc(countsText(c.ended))}</td></tr>`;
  return `<table class="causes"><caption>Launches and ended workers by cause</caption>
<thead><tr><th scope="col">pool</th><th scope="col">launched</th><th scope="col">ended</th></tr></thead>
<tbody>${[...s.pools.map((p) => row(p.pool, p)), row('all pools', s)].join('\n')}</tbody></table>`;
}

function drainedList(s: SimSummary): string {
  if (s.drained.length === 0) return '';
  return `<table class="drained"><caption>Drained images</caption>
<thead><tr><th scope="col">image</th><th scope="col">by</th><th scope="col">reason</th></tr></thead>
<tbody>${s.drained.map((d) => `<tr><td>${esc(d.ami)}</td><td>${esc(d.by)}</td><td>${esc(d.reason)}</td></tr>`).join('\n')}</tbody></table>`;
}

function countBy(keys: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of keys) out[k] = (out[k] ?? 0) + 1;
  return out;
}

function poolSection(pool: string, s: SimSummary, data: ReportData): string {
  const p = s.pools.find((x) => x.pool === pool);
  const facts = p
    ? `${money(p.cost)} spent (hindsight optimum ${money(p.hindsightCost)}) · ${p.launches.spot + p.launches.onDemand} launches · ${p.interruptions} interruptions · unmet ${pct(p.unmetShare)}`
    : '';
  const id = `${pool}/`;
  return `<section class="pool" id="pool-${esc(pool)}">
<h2>${esc(pool)}</h2><p class="facts">${esc(facts)}</p>
<div class="charts">
${POOL_CHARTS.map(
  (c) =>
    `<figure class="chart${c.kind === 'events' ? ' wide' : ''}"><figcaption><h3>${esc(c.kind === 'events' ? `${c.title} per ${data.eventBucketMinutes} min` : c.title)}</h3><p>${esc(c.caption)}</p></figcaption><div class="plot" data-chart="${esc(id + c.kind)}"></div></figure>`,
).join('\n')}
</div></section>`;
}

interface Assets {
  readonly js: string;
  readonly css: string;
  readonly version: string;
}

let cachedAssets: Assets | undefined;

/** uPlot's browser build and stylesheet, read from the installed package (no network at view time). */
function uplotAssets(): Assets {
  if (!cachedAssets) {
    const require = createRequire(import.meta.url);
    const read = (path: string) => readFileSync(require.resolve(path), 'utf8');
    cachedAssets = {
      js: read('uplot/dist/uPlot.iife.min.js'),
      css: read('uplot/dist/uPlot.min.css'),
      version: (JSON.parse(read('uplot/package.json')) as { version: string }).version,
    };
  }
  return cachedAssets;
}

/** JSON inside a script element: `<` escaped so no data can close the element. */
function jsonForScript(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

/** Script text inside a script element: `</script` can only occur in strings there, where `<\/` means the same. */
function inlineScript(js: string): string {
  return js.replace(/<\/script/gi, '<\\/script');
}

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
const money = (x: number) => `$${x.toFixed(2)}`;
const fmtTime = (iso: string) => `${iso.slice(0, 16).replace('T', ' ')} UTC`;

const PAGE_CSS = `
:root { color-scheme: light; --ink: #111827; --muted: #4b5563; --line: #e5e7eb; --card: #ffffff; --bg: #f8fafc; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); background: var(--bg); margin: 0 auto; padding: 24px 32px 48px; max-width: 1480px; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 19px; margin: 0; }
h3 { font-size: 14px; margin: 0; }
header .run { color: var(--muted); margin: 0 0 10px; }
.simulated { background: #fff7ed; border: 1px solid #fed7aa; border-radius: 6px; padding: 8px 12px; margin: 0 0 18px; }
.tiles { display: grid; grid-template-columns: repeat(auto-fill, minmax(170px, 1fr)); gap: 12px; margin-bottom: 18px; }
.tile { background: var(--card); border: 1px solid var(--line); border-left: 4px solid #94a3b8; border-radius: 6px; padding: 10px 12px; }
.tile.good { border-left-color: #16a34a; }
.tile.bad { border-left-color: #dc2626; }
.tile .label { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .04em; }
.tile .value { font-size: 24px; font-weight: 650; margin: 2px 0; font-variant-numeric: tabular-nums; }
.tile .note { color: var(--muted); font-size: 12px; overflow-wrap: anywhere; }
.pools { background: var(--card); border: 1px solid var(--line); border-radius: 6px; padding: 8px 12px; margin-bottom: 24px; overflow-x: auto; }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
th, td { padding: 4px 8px; text-align: right; border-bottom: 1px solid var(--line); white-space: nowrap; }
th:first-child, td:first-child { text-align: left; }
thead th { color: var(--muted); font-weight: 600; font-size: 12px; }
.zones { color: var(--muted); margin: 6px 0 0; font-size: 12px; }
table.drained { margin-top: 12px; }
table.drained caption { text-align: left; font-weight: 600; padding: 4px 8px; }
table.drained th, table.drained td { text-align: left; }
table.drained td { white-space: normal; font-size: 12px; }
table.drained td:first-child { font-family: ui-monospace, monospace; white-space: nowrap; }
.pool { margin-top: 28px; }
.pool .facts { color: var(--muted); margin: 2px 0 10px; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(560px, 1fr)); gap: 14px; }
.chart { background: var(--card); border: 1px solid var(--line); border-radius: 6px; padding: 10px 12px 4px; margin: 0; min-width: 0; }
.chart figcaption p { color: var(--muted); font-size: 12px; margin: 2px 0 6px; }
.chart.wide { grid-column: 1 / -1; }
.plot { width: 100%; }
.uplot.idle .u-legend .u-value, .uplot.idle .u-legend .u-series:first-child { display: none; }
.uplot.idle .u-legend.u-inline.u-live th::after { content: ''; }
.uplot { font-family: inherit; }
.u-legend { font-size: 12px; text-align: left; }
.u-legend .u-marker { width: 12px; height: 12px; }
footer { color: var(--muted); font-size: 12px; margin-top: 32px; }
`;
