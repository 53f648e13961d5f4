// `fleet sim`: the samples and summary figures a report is drawn from agree with the simulated
// world, and the page is self-contained and escapes what it shows.

import { join } from 'node:path';
import { expect } from 'chai';
import { loadPolicies } from '../../src/config/policies.js';
import { silentLogger } from '../../src/service/logger.js';
import { type SimRun, runSimulation } from '../../src/sim/driver.js';
import { CAUSES } from '../../src/domain/causes.js';
import { countsText } from '../../src/sim/causes.js';
import { renderReport } from '../../src/sim/report.js';
import { reportData } from '../../src/sim/report-data.js';
import type { PoolSample } from '../../src/sim/sampler.js';
import { summaryText } from '../../src/sim/summary.js';
import { testConfig } from '../support/sim-fleet.js';

describe('sim report figures', function () {
  this.timeout(60_000);
  let run: SimRun;

  before(async () => {
    run = await runSimulation({
      config: testConfig({ regions: ['us-east-1', 'us-west-2'] }),
      policies: loadPolicies(join(import.meta.dirname, '..', '..', 'policies')),
      seed: 5,
      start: Date.parse('2026-11-16T12:00:00Z'),
      hours: 3,
      exhaust: [{ lifecycle: 'spot', instanceType: '*', az: '*', fromHour: 1, toHour: 1.5 }],
      log: silentLogger(),
    });
  });

  const total = (pool: string, f: (p: PoolSample) => number) =>
    run.samples.reduce((sum, s) => sum + (s.pools[pool] ? f(s.pools[pool]) : 0), 0);

  it('samples add up to the summary: launches exactly, cost and hours up to the last cycle', () => {
    const { summary } = run;
    for (const p of summary.pools) {
      expect(
        total(p.pool, (s) => s.launchesSpot),
        p.pool,
      ).to.equal(p.launches.spot);
      expect(
        total(p.pool, (s) => s.launchesOnDemand),
        p.pool,
      ).to.equal(p.launches.onDemand);
      expect(
        total(p.pool, (s) => s.interruptions),
        p.pool,
      ).to.be.at.most(p.interruptions);
    }
    const cost = summary.pools.reduce((sum, p) => sum + total(p.pool, (s) => s.cost), 0);
    // The world bills one more minute after the last cycle's sample.
    expect(cost).to.be.at.most(summary.cost + 0.01);
    expect(cost).to.be.closeTo(summary.cost, summary.cost * 0.02);
    expect(summary.pools.reduce((sum, p) => sum + p.cost, 0)).to.be.closeTo(summary.cost, 0.05);
    expect(
      summary.pools.some((p) => p.launches.onDemand > 0),
      'the spot outage forced on-demand launches',
    ).to.equal(true);
  });

  it("counts launches and ended workers by cause: fleet's by its action's cause, the market's as spot-interruption", () => {
    const { summary } = run;
    const sum = (counts: Readonly<Partial<Record<string, number>>>, keys?: readonly string[]) =>
      Object.entries(counts).reduce((n, [k, v]) => n + (keys === undefined || keys.includes(k) ? (v ?? 0) : 0), 0);
    const fleetCauses = CAUSES as readonly string[];
    for (const p of summary.pools) {
      expect(sum(p.launched), p.pool).to.equal(p.launches.spot + p.launches.onDemand);
      expect(sum(p.ended, fleetCauses), p.pool).to.equal(p.terminatedByFleet);
      expect(p.ended['spot-interruption'] ?? 0, p.pool).to.equal(p.interruptions);
      expect(p.ended, `${p.pool}: every termination of fleet's has its cause`).not.to.have.key('user');
      for (const cause of Object.keys(p.launched)) expect(fleetCauses, p.pool).to.include(cause);
    }
    const forced = summary.pools.filter((p) => p.launches.onDemand > 0);
    for (const p of forced) expect(p.launched.fallback, `${p.pool}: its on-demand launches are fallbacks`).to.be.greaterThan(0);
    expect(summary.pools.some((p) => (p.launched['scale-up'] ?? 0) > 0)).to.equal(true);
    expect(sum(summary.launched)).to.equal(summary.pools.reduce((n, p) => n + sum(p.launched), 0));
    expect(sum(summary.ended)).to.equal(summary.pools.reduce((n, p) => n + sum(p.ended), 0));
    expect(summaryText(summary)).to.match(/By cause:\n.*launched: .*scale-up \d+.*; ended: /);
  });

  it('puts the hindsight optimum below what was paid, and counts unmet worker-minutes per cycle', () => {
    const { summary } = run;
    expect(summary.hindsightCost).to.be.greaterThan(0);
    expect(summary.hindsightCost).to.be.lessThan(summary.cost);
    for (const p of summary.pools) {
      expect(p.hindsightCost, p.pool).to.be.at.most(p.cost);
      const unmet = total(p.pool, (s) => Math.max(0, s.wanted - s.running));
      expect(p.unmetWorkerMinutes, p.pool).to.be.closeTo(unmet, 0.1);
    }
    expect(summary.unmetWorkerMinutes).to.be.closeTo(
      summary.pools.reduce((sum, p) => sum + p.unmetWorkerMinutes, 0),
      0.2,
    );
    expect(summary.interruptions).to.equal(summary.pools.reduce((sum, p) => sum + p.interruptions, 0));
    // Every live worker is either running or pending, of one lifecycle, on an image of some status.
    for (const s of run.samples) {
      for (const p of Object.values(s.pools)) {
        expect(p.spotRunning + p.onDemandRunning).to.equal(p.running);
        expect(p.spotPending + p.onDemandPending).to.equal(p.pending);
        expect(p.imageCurrent + p.imageOutdated + p.imageDrained + p.imageUnknown).to.equal(p.running + p.pending);
      }
    }
  });

  it('renders one self-contained page: library, data and script inline, nothing fetched', () => {
    const html = renderReport(run);
    expect(html).to.not.match(/<script[^>]*\ssrc=|<link[^>]*\shref=|url\(\s*['"]?https?:/i);
    expect(html).to.include('uPlot');
    const blob = /<script type="application\/json" id="fleet-report-data">(.*?)<\/script>/s.exec(html)?.[1];
    expect(JSON.parse(blob as string)).to.deep.equal(JSON.parse(JSON.stringify(reportData(run))));
    for (const p of run.summary.pools) expect(html).to.include(`data-chart="${p.pool}/lifecycle"`);
    expect(html).to.include(`$${run.summary.cost.toFixed(2)}`);
    expect(html).to.match(/Simulated cloud/);
    expect(html).to.include('<caption>Launches and ended workers by cause</caption>');
    for (const p of run.summary.pools) expect(html).to.include(`<th scope="row">${p.pool}</th><td>${countsText(p.launched)}</td>`);
  });

  it('escapes what operators wrote (a drain reason) in the page and in its data', () => {
    const hostile = '</script><img src=x onerror=alert(1)>';
    const html = renderReport({
      ...run,
      summary: { ...run.summary, drained: [{ ami: 'ami-0123456789abcdef0', by: 'operator', reason: hostile }] },
    });
    expect(html).to.not.include(hostile);
    expect(html).to.include('&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;');
    expect(html.match(/<script/g)).to.have.length(3);
  });
});
