// deploy/grafana/fleet-dashboard.json: every PromQL expression parses, and every metric and label
// it reads is one the service exports (read from FleetMetrics' own registry). No Grafana runs here.
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { parser } from '@prometheus-io/lezer-promql';
import { FleetMetrics } from '../../../src/service/metrics.js';

/**
 * Metrics the dashboard reads that other parts of fleet add, with their labels where known.
 * Each entry is removed once the metric is in FleetMetrics' registry (the test then says so).
 */
const ADDED_ELSEWHERE: Readonly<Record<string, readonly string[] | undefined>> = {};

/** Labels Prometheus adds to every series it scrapes. */
const TARGET_LABELS = ['job', 'instance'];

interface Panel {
  readonly type: string;
  readonly title: string;
  readonly datasource?: { readonly type: string; readonly uid: string };
  readonly targets?: readonly { readonly expr: string; readonly legendFormat?: string }[];
}

const dashboard = JSON.parse(readFileSync('deploy/grafana/fleet-dashboard.json', 'utf8')) as {
  uid: string;
  title: string;
  panels: Panel[];
  templating: { list: { name: string; type: string; query: unknown }[] };
};
const panels = dashboard.panels;
const queries = panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr, legend: t.legendFormat ?? '' })));

/** Grafana's own variables are not PromQL: a duration stands in for them. */
const promql = (expr: string) => expr.replace(/\$__(rate_interval|interval|range)\b/g, '5m');

interface Selector {
  readonly metric: string;
  readonly labels: readonly string[];
}

/** The metric selectors of an expression, or its syntax errors. */
function read(expr: string): { selectors: Selector[]; errors: string[] } {
  const text = promql(expr);
  const selectors: Selector[] = [];
  const errors: string[] = [];
  parser.parse(text).iterate({
    enter(node) {
      if (node.type.isError) errors.push(`at ${node.from}: ${JSON.stringify(text.slice(Math.max(0, node.from - 10), node.to + 10))}`);
      if (node.name !== 'VectorSelector') return;
      const metric = node.node.getChild('Identifier');
      const labels =
        node.node
          .getChild('LabelMatchers')
          ?.getChildren('UnquotedLabelMatcher')
          .map((m) => m.getChild('LabelName')) ?? [];
      if (metric)
        selectors.push({
          metric: text.slice(metric.from, metric.to),
          labels: labels.flatMap((l) => (l ? [text.slice(l.from, l.to)] : [])),
        });
    },
  });
  return { selectors, errors };
}

/** Every metric FleetMetrics registers, with its labels (a histogram's series included). */
async function exported(): Promise<Map<string, readonly string[]>> {
  const metrics = new FleetMetrics();
  const names = new Map<string, readonly string[]>();
  for (const m of await metrics.registry.getMetricsAsJSON()) {
    const labels = (metrics.registry.getSingleMetric(m.name) as unknown as { labelNames?: readonly string[] }).labelNames ?? [];
    names.set(m.name, labels);
    if (String(m.type) === 'histogram') {
      names.set(`${m.name}_bucket`, [...labels, 'le']);
      names.set(`${m.name}_sum`, labels);
      names.set(`${m.name}_count`, labels);
    }
  }
  return names;
}

describe('deploy: Grafana dashboard', () => {
  it('is a dashboard with a Prometheus datasource variable every panel uses', () => {
    expect(dashboard.uid).to.equal('fleet-overview');
    expect(dashboard.templating.list.find((v) => v.name === 'datasource')).to.deep.include({ type: 'datasource', query: 'prometheus' });
    for (const p of panels.filter((x) => x.type !== 'row')) {
      expect(p.datasource, p.title).to.deep.equal({ type: 'prometheus', uid: '${datasource}' });
      expect(p.targets, p.title).to.be.an('array').that.is.not.empty;
    }
  });

  it('has PromQL that parses in every query', () => {
    expect(queries.length).to.be.greaterThan(20);
    const broken = queries.flatMap((q) => read(q.expr).errors.map((e) => `${q.panel}: ${e}`));
    expect(broken).to.deep.equal([]);
    // The parser does report errors: the check above is not vacuous.
    expect(read('sum(rate(fleet_cycles_total[5m])').errors).not.to.deep.equal([]);
  });

  it('reads only metrics the service exports, with their labels, except the ones added elsewhere', async () => {
    const metrics = await exported();
    const unknown: string[] = [];
    for (const q of queries) {
      for (const s of read(q.expr).selectors) {
        const labels = metrics.get(s.metric) ?? ADDED_ELSEWHERE[s.metric];
        if (!metrics.has(s.metric) && !(s.metric in ADDED_ELSEWHERE)) {
          unknown.push(`${q.panel}: ${s.metric}`);
          continue;
        }
        if (labels === undefined) continue;
        for (const label of s.labels) if (![...labels, ...TARGET_LABELS].includes(label)) unknown.push(`${q.panel}: ${s.metric}{${label}}`);
      }
    }
    expect(unknown).to.deep.equal([]);
    // The allow-list holds only what is still missing from the registry.
    expect(
      Object.keys(ADDED_ELSEWHERE).filter((name) => metrics.has(name)),
      'now exported: drop from ADDED_ELSEWHERE',
    ).to.deep.equal([]);
  });

  it('shows what operators ask for: pool sizes, spot share, cost against on demand, actions, API calls, cycles, the lease, interruptions', () => {
    const read = new Set(queries.flatMap((q) => [...q.expr.matchAll(/\b(fleet_[a-z_]+)\b/g)].map((m) => m[1])));
    expect([...read]).to.include.members([
      'fleet_pool_desired',
      'fleet_pool_instances',
      'fleet_pool_unmet',
      'fleet_cost_per_hour_dollars',
      'fleet_on_demand_equivalent_per_hour_dollars',
      'fleet_savings_ratio',
      'fleet_fallback_seconds_total',
      'fleet_actions_total',
      'fleet_launch_failures_total',
      'fleet_api_calls_total',
      'fleet_api_retries_total',
      'fleet_cycle_duration_seconds_bucket',
      'fleet_leader',
      'fleet_interruptions_total',
    ]);
  });

  it('shows launches and terminations by cause, so why fleet acted is read off the chart', () => {
    const actions = queries.filter((q) => /\bfleet_actions_total\b/.test(q.expr));
    expect(actions).to.not.deep.equal([]);
    for (const q of actions) {
      expect(q.expr, q.panel).to.match(/sum by \([^)]*\bcause\b[^)]*\)/);
      expect(q.legend, q.panel).to.include('{{cause}}');
    }
  });

  it("has a Rollout row with panels on fleet_rollout_phase (the leader's) and fleet_guard_drains_total", () => {
    const row = panels.findIndex((p) => p.type === 'row' && p.title === 'Rollout');
    expect(row, 'a row titled Rollout').to.be.at.least(0);
    const next = panels.findIndex((p, i) => i > row && p.type === 'row');
    const inRow = panels.slice(row + 1, next < 0 ? undefined : next);
    const exprs = inRow.flatMap((p) => (p.targets ?? []).map((t) => t.expr));
    expect(exprs.join('\n')).to.match(/\bfleet_guard_drains_total\b/);
    const phases = exprs.filter((e) => /\bfleet_rollout_phase\b/.test(e));
    expect(phases).to.not.deep.equal([]);
    // A replica that lost the lease keeps its last gauges: only the leader's count.
    for (const e of phases) expect(e).to.include('(fleet_leader == 1)');
  });
});
