// The script the report page runs in the browser: it reads the page's JSON data and draws every
// chart with uPlot (inlined into the page before this script). Plain browser JavaScript kept as
// text, since the project's TypeScript targets Node; the report's browser test runs it for real.

export const CLIENT_SCRIPT = String.raw`
(() => {
  'use strict';
  const data = JSON.parse(document.getElementById('fleet-report-data').textContent);
  const S = data.series;
  const HEIGHT = 230;
  const utc = (ts) => uPlot.tzDate(new Date(ts * 1e3), 'Etc/UTC');
  const stepped = uPlot.paths.stepped({ align: 1 });
  const bars = uPlot.paths.bars({ size: [0.8, 28, 1] });

  // A solid, lighter shade of a series colour: stacked areas overlap without blending.
  const tint = (hex, share = 0.45) => {
    const n = parseInt(hex.slice(1), 16);
    const mix = (c) => Math.round(c * share + 255 * (1 - share));
    return 'rgb(' + mix(n >> 16) + ',' + mix((n >> 8) & 255) + ',' + mix(n & 255) + ')';
  };
  const num = (v) => (v == null ? '–' : String(Math.round(v * 100) / 100));
  const dollars = (digits) => (v) => (v == null ? '–' : '$' + v.toFixed(digits));
  const hasData = (values) => values.some((v) => v != null && v !== 0);
  const sum = (a, b) => a.map((v, i) => v + b[i]);

  /** Stacked areas, bottom layer first in keys; drawn and listed top layer first. */
  function stack(p, keys) {
    let total = p[keys[0]].map(() => 0);
    const layers = keys.map((k) => ({ k, values: (total = sum(total, p[k])) }));
    return layers.reverse().map(({ k, values }) => ({
      key: k,
      values,
      raw: p[k],
      series: { label: S[k].label, stroke: S[k].colour, fill: tint(S[k].colour), width: 1.5, paths: stepped, value: (u, v, si, i) => (i == null ? '–' : num(p[k][i])) },
    }));
  }

  function line(p, k, options = {}) {
    const format = options.format || num;
    return {
      key: k,
      values: p[k],
      raw: p[k],
      series: {
        label: S[k].label,
        stroke: S[k].colour,
        width: options.width || 2,
        spanGaps: false,
        value: (u, v) => format(v),
        ...(options.dash ? { dash: options.dash } : {}),
        ...(options.paths ? { paths: options.paths } : {}),
      },
    };
  }

  /** Bars above the axis for workers in, below for workers out (stacked, drawn tallest first). */
  function eventBars(p) {
    const up = stack(p, ['launchesSpot', 'launchesOnDemand']);
    const down = stack(p, ['interruptions', 'endedByFleet']).map((layer) => ({ ...layer, values: layer.values.map((v) => -v) }));
    // A zero draws no bar (uPlot would draw a hairline at the axis).
    return [...up, ...down].map((layer) => ({
      ...layer,
      values: layer.values.map((v) => (v === 0 ? null : v)),
      series: { ...layer.series, fill: S[layer.key].colour, paths: bars, points: { show: false } },
    }));
  }

  // Time ticks in UTC, 24-hour; the date under the first tick and wherever the day changes.
  const pad = (n) => String(n).padStart(2, '0');
  const timeTicks = (u, splits) =>
    splits.map((ts, i) => {
      const d = new Date(ts * 1e3);
      const day = d.toISOString().slice(0, 10);
      const clock = pad(d.getUTCHours()) + ':' + pad(d.getUTCMinutes());
      return i === 0 || new Date(splits[i - 1] * 1e3).toISOString().slice(0, 10) !== day ? clock + '\n' + day : clock;
    });

  function chart(el, spec) {
    const opts = {
      width: Math.max(320, el.clientWidth),
      height: HEIGHT,
      tzDate: utc,
      // One time cursor across every chart; y scales differ, so only x follows.
      cursor: { sync: { key: 'fleet', scales: ['x', null] }, y: false, points: { size: 6 } },
      legend: { live: true },
      scales: { x: { time: true }, y: { range: spec.range } },
      axes: [
        { label: 'time (UTC)', labelSize: 20, size: 44, stroke: '#374151', grid: { stroke: '#e5e7eb' }, ticks: { stroke: '#d1d5db' }, values: timeTicks },
        {
          label: spec.yLabel,
          labelSize: 20,
          size: spec.ySize || 56,
          stroke: '#374151',
          grid: { stroke: '#e5e7eb' },
          ticks: { stroke: '#d1d5db' },
          ...(spec.yValues ? { values: spec.yValues } : {}),
          ...(spec.yIncrs ? { incrs: spec.yIncrs } : {}),
        },
      ],
      series: [{ label: 'time', value: '{YYYY}-{MM}-{DD} {HH}:{mm} UTC' }, ...spec.layers.map((l) => l.series)],
      // Values show while the cursor is on some chart; otherwise the legend is names only.
      hooks: { setLegend: [(u) => u.root.classList.toggle('idle', u.legend.idx == null)] },
    };
    const plot = new uPlot(opts, [spec.x, ...spec.layers.map((l) => l.values)], el);
    plot.root.classList.toggle('idle', plot.legend.idx == null);
    el.dataset.series = JSON.stringify(spec.layers.map((l) => ({ label: S[l.key].label, colour: S[l.key].colour, hasData: hasData(l.raw) })));
    return plot;
  }

  const rangeFromZero = (u, min, max) => [0, max > 0 ? max * 1.08 : 1];
  // Worker counts tick at whole numbers.
  const wholeNumbers = [1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000];
  const symmetric = (u, min, max) => {
    const m = Math.max(1, Math.abs(min), Math.abs(max)) * 1.1;
    return [min < 0 ? -m : 0, m];
  };
  const money = (digits) => (u, splits) => splits.map((v) => '$' + v.toFixed(digits));
  const absolute = (u, splits) => splits.map((v) => String(Math.abs(v)));
  const priceDigits = (p) => (Math.max(...p.cheapestOnDemand.filter((v) => v != null), 0) < 1 ? 3 : 2);

  const plots = [];
  for (const p of data.pools) {
    const images = ['imageCurrent', 'imageOutdated', 'imageDrained'].concat(hasData(p.imageUnknown) ? ['imageUnknown'] : []);
    const specs = {
      lifecycle: { x: data.t, yLabel: 'workers', range: rangeFromZero, yIncrs: wholeNumbers, layers: [...stack(p, ['spotRunning', 'onDemandRunning', 'pending']), line(p, 'wanted', { dash: [6, 4], paths: stepped })] },
      images: { x: data.t, yLabel: 'workers', range: rangeFromZero, yIncrs: wholeNumbers, layers: stack(p, images) },
      price: {
        x: data.t,
        yLabel: '$ per worker-hour',
        ySize: 64,
        range: rangeFromZero,
        yValues: money(priceDigits(p)),
        // Drawn in order: what was paid last, on top of the wider line of the cheapest offer.
        layers: [
          line(p, 'cheapestOnDemand', { format: dollars(4), dash: [8, 4], width: 1.5 }),
          line(p, 'cheapestSpot', { format: dollars(4), paths: stepped, width: 5 }),
          line(p, 'pricePaid', { format: dollars(4) }),
        ],
      },
      cost: {
        x: data.t,
        yLabel: '$ since start',
        ySize: 64,
        range: rangeFromZero,
        yValues: money(2),
        layers: [line(p, 'onDemandCost', { format: dollars(2), dash: [8, 4] }), line(p, 'hindsightCost', { format: dollars(2), width: 5 }), line(p, 'cost', { format: dollars(2) })],
      },
      jobs: { x: data.t, yLabel: 'jobs, workers', range: rangeFromZero, yIncrs: wholeNumbers, layers: [...stack(p, ['jobsRunning', 'jobsPending']), line(p, 'workersRunning', { dash: [6, 4], paths: stepped })] },
      wait: { x: data.t, yLabel: 'minutes', range: rangeFromZero, layers: [line(p, 'oldestWait', { paths: stepped })] },
      events: { x: data.eventT, yLabel: 'workers per ' + data.eventBucketMinutes + ' min', range: symmetric, yValues: absolute, yIncrs: wholeNumbers, layers: eventBars(p) },
    };
    for (const [kind, spec] of Object.entries(specs)) {
      const el = document.querySelector('[data-chart="' + CSS.escape(p.pool + '/' + kind) + '"]');
      if (el) plots.push({ el, plot: chart(el, spec) });
    }
  }
  window.addEventListener('resize', () => {
    for (const { el, plot } of plots) plot.setSize({ width: Math.max(320, el.clientWidth), height: HEIGHT });
  });
  document.body.dataset.charts = String(plots.length);
})();
`;
