// `fleet sim --report`: the page is opened in a real headless Chromium, offline, and every chart of
// every pool must have drawn its series. The screenshot is kept in test/artifacts/report.png.

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { expect } from 'chai';
import { loadPolicies } from '../../src/config/policies.js';
import { silentLogger } from '../../src/service/logger.js';
import { type SimRun, runSimulation } from '../../src/sim/driver.js';
import { POOL_CHARTS, renderReport } from '../../src/sim/report.js';
import { type Browser, browserUnavailable, launchBrowser } from '../support/browser.js';
import { testConfig } from '../support/sim-fleet.js';

const ARTIFACTS = join(import.meta.dirname, '..', 'artifacts');

interface DrawnChart {
  readonly chart: string;
  readonly canvases: number;
  /** pixels that are not transparent */
  readonly inked: number;
  readonly legend: readonly string[];
  readonly series: readonly { label: string; colour: string; hasData: boolean; pixels: number }[];
}

/**
 * Run in the page (plain JavaScript: the test's compiled code would carry its own helpers): per
 * chart, its canvases, inked pixels, legend labels, and for each series the pixels of its colour.
 */
const PROBE = `(() => {
  const near = (d, i, hex) => {
    const n = parseInt(hex.slice(1), 16);
    return d[i + 3] > 200 && Math.abs(d[i] - (n >> 16)) + Math.abs(d[i + 1] - ((n >> 8) & 255)) + Math.abs(d[i + 2] - (n & 255)) <= 40;
  };
  return [...document.querySelectorAll('[data-chart]')].map((el) => {
    const canvases = [...el.querySelectorAll('canvas')];
    const series = JSON.parse(el.dataset.series || '[]');
    const pixels = series.map(() => 0);
    let inked = 0;
    for (const canvas of canvases) {
      const d = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
      for (let i = 0; i < d.length; i += 4) {
        if (d[i + 3] === 0) continue;
        inked++;
        series.forEach((s, k) => { if (near(d, i, s.colour)) pixels[k]++; });
      }
    }
    return {
      chart: el.dataset.chart,
      canvases: canvases.length,
      inked,
      legend: [...el.querySelectorAll('.u-legend .u-series .u-label')].map((l) => l.textContent),
      series: series.map((s, k) => ({ ...s, pixels: pixels[k] })),
    };
  });
})()`;

describe('sim report in a headless browser', function () {
  this.timeout(180_000);
  let browser: Browser | undefined;
  let run: SimRun;
  let dir: string;

  before(async function () {
    const unavailable = browserUnavailable();
    if (unavailable) {
      console.log(`      skipped: ${unavailable}`);
      this.skip();
    }
    // Five simulated hours across the nightly bake, with a broken image (the guard drains it) and an
    // hour with no spot capacity anywhere (interruptions, then on-demand fallback).
    run = await runSimulation({
      config: testConfig({ regions: ['us-east-1', 'us-west-2'] }),
      policies: loadPolicies(join(import.meta.dirname, '..', '..', 'policies')),
      seed: 11,
      start: Date.parse('2026-11-16T02:00:00Z'),
      hours: 5,
      badImageAfterHour: 1,
      exhaust: [{ lifecycle: 'spot', instanceType: '*', az: '*', fromHour: 3, toHour: 3.75 }],
      log: silentLogger(),
    });
    dir = mkdtempSync(join(tmpdir(), 'fleet-report-'));
    writeFileSync(join(dir, 'report.html'), renderReport(run));
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('draws every chart of every pool with its legend, offline and without errors', async () => {
    const page = await (browser as Browser).context.newPage();
    const errors: string[] = [];
    const requests: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(`console: ${m.text()}`);
    });
    page.on('pageerror', (e) => errors.push(`page: ${e.message}`));
    page.on('request', (r) => {
      if (!r.url().startsWith('file:')) requests.push(r.url());
    });
    await page.goto(pathToFileURL(join(dir, 'report.html')).href);
    await page.waitForFunction('document.body.dataset.charts !== undefined', undefined, { timeout: 30_000 });

    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'report.png'), fullPage: true });

    const drawn: DrawnChart[] = await page.evaluate(PROBE);

    expect(errors, 'console and page errors').to.deep.equal([]);
    expect(requests, 'requests leaving the page').to.deep.equal([]);
    const expected = run.summary.pools.flatMap((p) => POOL_CHARTS.map((c) => `${p.pool}/${c.kind}`));
    expect(drawn.map((c) => c.chart)).to.deep.equal(expected);
    for (const chart of drawn) {
      expect(chart.canvases, chart.chart).to.be.greaterThan(0);
      expect(chart.inked, `${chart.chart}: inked pixels`).to.be.greaterThan(1000);
      expect(chart.series.length, `${chart.chart}: series`).to.be.greaterThan(0);
      for (const s of chart.series) {
        expect(chart.legend, `${chart.chart}: legend`).to.include(s.label);
        if (s.hasData) expect(s.pixels, `${chart.chart}: pixels of ${s.label} (${s.colour})`).to.be.greaterThan(10);
      }
    }
    // The run exercised what the charts show: on-demand fallback, interruptions, a drained image.
    const shown = (label: string) => drawn.some((c) => c.series.some((s) => s.label === label && s.hasData && s.pixels > 10));
    for (const label of [
      'spot running',
      'on-demand running',
      'wanted',
      'current image',
      'outdated image',
      'price paid',
      'cheapest spot offer',
      'hindsight optimum',
      'interruptions',
      'on-demand launches',
      'jobs running',
      'jobs waiting',
      'workers running',
      'longest wait',
    ]) {
      expect(shown(label), label).to.equal(true);
    }
    const headline = await page.locator('.tiles .label').allTextContents();
    expect(headline).to.include.members([
      'Cost',
      'Against the hindsight optimum',
      'Spot share',
      'Interruptions',
      'Unmet worker-minutes',
      'API calls',
      'Drained images',
      'Jobs completed',
      'Jobs killed',
    ]);
    expect(await page.locator('.simulated').textContent()).to.match(/Simulated cloud/);
  });
});
