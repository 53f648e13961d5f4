import { expect } from 'chai';
import { type Socket, connect, createServer } from 'node:net';
import { networkInterfaces } from 'node:os';
import { register as globalRegistry } from 'prom-client';
import { CallCounter } from '../../../src/cloud/guarded.js';
import type { PoolPolicy } from '../../../src/domain/policy.js';
import { type Snapshot, onDemandKey } from '../../../src/domain/snapshot.js';
import { statusView } from '../../../src/plan/status.js';
import { InterruptionTally } from '../../../src/service/cycle-tallies.js';
import { Journal } from '../../../src/service/journal.js';
import { FleetMetrics, Health, type MetricsServer, startMetricsServer } from '../../../src/service/metrics.js';
import type { CycleResult } from '../../../src/service/reconciler.js';
import { T0, instance, policy, snapshot } from '../../support/builders.js';
import { SimFleet } from '../../support/sim-fleet.js';
import { until } from '../../support/waiting.js';

function openSocket(port: number, host = '127.0.0.1'): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, host, () => resolve(socket));
    socket.on('error', reject);
  });
}

async function connects(host: string, port: number): Promise<boolean> {
  try {
    (await openSocket(port, host)).destroy();
    return true;
  } catch {
    return false;
  }
}

/** One raw HTTP exchange: fetch() hides what a HEAD answer carries. */
function rawRequest(port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(request));
    let text = '';
    socket.on('data', (d: Buffer) => (text += d.toString()));
    socket.on('end', () => resolve(text));
    socket.on('error', reject);
  });
}

const SUBNETS = { 'us-east-1': { subnets: ['subnet-1a', 'subnet-1b', 'subnet-1c'], securityGroups: ['sg-1'] } };
const TYPES = ['c5.xlarge', 'm5.xlarge'];

function simFleet(): SimFleet {
  return new SimFleet({ policies: [policy({ regions: SUBNETS, instanceTypes: TYPES })] });
}

/** The value of one sample of the text exposition, e.g. `fleet_pool_desired{pool="bld-linux64"}`. */
async function sample(metrics: FleetMetrics, series: string): Promise<number | undefined> {
  const line = (await metrics.metrics()).split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('metrics: what a reconcile cycle exposes', () => {
  it('exposes a real cycle on the simulated cloud: pools, actions, API calls, inputs, cycles, duration', async () => {
    const fleet = simFleet();
    const metrics = new FleetMetrics({ now: () => 1_800_000_000_000, policies: fleet.policies });
    fleet.publishDesired({ 'bld-linux64': 5 });
    const first = await fleet.cycle();
    metrics.observeCycle(first, undefined, 1500, fleet.runtime.calls);

    const text = await metrics.metrics();
    expect(text).to.include('fleet_pool_desired{pool="bld-linux64"} 5');
    expect(text).to.include('fleet_cycles_total{result="ok"} 1');
    expect(text).to.include('fleet_cycles_total{result="failed"} 0');
    expect(text).to.include('fleet_actions_total{kind="launch",pool="bld-linux64",cause="scale-up",lifecycle="spot",result="ok"} 5');
    expect(text).to.include('fleet_actions_total{kind="launch",pool="bld-linux64",cause="scale-up",lifecycle="spot",result="failed"} 0');
    expect(text).to.include('fleet_launch_failures_total{kind="capacity"} 0');
    // Five launches into one offer: calls of 1, 2 and 2 (all or nothing each).
    expect(text).to.include('fleet_api_calls_total{region="us-east-1",action="RunInstances"} 3');
    expect(text).to.include('fleet_input_stale{input="desired"} 0');
    expect(text).to.include('fleet_input_stale{input="manifest"} 0');
    expect(text).to.include('fleet_blocked 0');
    expect(text).to.include('fleet_last_success_timestamp_seconds 1800000000');
    expect(text).to.include('fleet_cycle_duration_seconds_count 1');
    expect(text).to.include('fleet_cycle_duration_seconds_sum 1.5');
    expect(text).to.include('fleet_cycle_duration_seconds_bucket{le="2.5"} 1');
    expect(text).to.include('fleet_cycle_duration_seconds_bucket{le="1"} 0');
    expect(text).to.include('# TYPE fleet_pool_instances gauge');
    // Node's own process metrics, on this registry.
    expect(text).to.match(/^process_cpu_user_seconds_total /m);
    expect(text).to.match(/^nodejs_heap_size_used_bytes /m);

    // The next cycle sees the five instances; nothing more to launch.
    fleet.advance(60_000);
    const second = await fleet.cycle();
    metrics.observeCycle(second, undefined, 200, fleet.runtime.calls);
    expect(await sample(metrics, 'fleet_pool_instances{pool="bld-linux64",lifecycle="spot"}')).to.equal(5);
    expect(await sample(metrics, 'fleet_pool_instances{pool="bld-linux64",lifecycle="on-demand"}')).to.equal(0);
    expect(await sample(metrics, 'fleet_pool_unmet{pool="bld-linux64"}')).to.equal(0);
    expect(await sample(metrics, 'fleet_cycles_total{result="ok"}')).to.equal(2);
    expect(
      await sample(metrics, 'fleet_actions_total{kind="launch",pool="bld-linux64",cause="scale-up",lifecycle="spot",result="ok"}'),
    ).to.equal(5);
    // The CallCounter is cumulative: the counters track it, they do not add it up again.
    const describes = fleet.runtime.calls.calls.get('us-east-1 DescribeInstances');
    expect(describes).to.equal(2);
    expect(await sample(metrics, 'fleet_api_calls_total{region="us-east-1",action="DescribeInstances"}')).to.equal(describes);
    expect(await sample(metrics, 'fleet_api_calls_total{region="us-east-1",action="RunInstances"}')).to.equal(3);
  });

  it('counts API calls and retries by the increase of the CallCounter, also across a reset', async () => {
    const metrics = new FleetMetrics();
    const calls = new CallCounter();
    const failed = new Error('boom');
    for (let k = 0; k < 3; k++) calls.count('us-east-1', 'DescribeInstances');
    calls.retried('us-east-1', 'DescribeInstances');
    metrics.observeCycle(undefined, failed, 10, calls);
    expect(await sample(metrics, 'fleet_api_calls_total{region="us-east-1",action="DescribeInstances"}')).to.equal(3);
    expect(await sample(metrics, 'fleet_api_retries_total{region="us-east-1",action="DescribeInstances"}')).to.equal(1);

    calls.count('us-east-1', 'DescribeInstances');
    calls.count('us-east-1', 'DescribeInstances');
    calls.count('us-west-2', 'RunInstances');
    metrics.observeCycle(undefined, failed, 10, calls);
    expect(await sample(metrics, 'fleet_api_calls_total{region="us-east-1",action="DescribeInstances"}')).to.equal(5);
    expect(await sample(metrics, 'fleet_api_calls_total{region="us-west-2",action="RunInstances"}')).to.equal(1);
    expect(await sample(metrics, 'fleet_api_retries_total{region="us-east-1",action="DescribeInstances"}')).to.equal(1);

    // Nothing new: nothing added.
    metrics.observeCycle(undefined, failed, 10, calls);
    expect(await sample(metrics, 'fleet_api_calls_total{region="us-east-1",action="DescribeInstances"}')).to.equal(5);

    // A reset counter starts from zero again: its new value is all new calls.
    calls.reset();
    calls.count('us-east-1', 'DescribeInstances');
    metrics.observeCycle(undefined, failed, 10, calls);
    expect(await sample(metrics, 'fleet_api_calls_total{region="us-east-1",action="DescribeInstances"}')).to.equal(6);
    expect(await sample(metrics, 'fleet_cycles_total{result="failed"}')).to.equal(4);
    expect(await sample(metrics, 'fleet_cycle_duration_seconds_count')).to.equal(4);
  });

  it('counts a refused launch once, as a capacity failure, and not the launches left unsent on that offer', async () => {
    const fleet = simFleet();
    const t = fleet.cloud.clock.now();
    const zones = ['subnet-1a', 'subnet-1b', 'subnet-1c'].map((s) => fleet.cloud.world.subnets.get(s)?.az as string);
    const [cheapest] = zones
      .flatMap((az) =>
        TYPES.map((type) => ({ az, type, price: fleet.cloud.world.market.spotPrice('us-east-1', az, type, 'Linux/UNIX', t) as number })),
      )
      .sort((a, b) => a.price - b.price);
    fleet.cloud.world.market.setCapacity(cheapest?.az as string, cheapest?.type as string, 'spot', 0);
    fleet.publishDesired({ 'bld-linux64': 3 });
    const metrics = new FleetMetrics();
    metrics.observeCycle(await fleet.cycle(), undefined, 100, fleet.runtime.calls);
    expect(fleet.calls('RunInstances', 'InsufficientInstanceCapacity')).to.equal(1);
    expect(await sample(metrics, 'fleet_launch_failures_total{kind="capacity"}')).to.equal(1);
    expect(
      await sample(metrics, 'fleet_actions_total{kind="launch",pool="bld-linux64",cause="scale-up",lifecycle="spot",result="failed"}'),
    ).to.equal(1);
    expect(
      await sample(metrics, 'fleet_actions_total{kind="launch",pool="bld-linux64",cause="scale-up",lifecycle="spot",result="ok"}'),
    ).to.equal(3);
    // The refused probe, then calls of 1 and 2 into the next offer.
    expect(await sample(metrics, 'fleet_api_calls_total{region="us-east-1",action="RunInstances"}')).to.equal(3);
  });

  it('counts terminations by pool, cause, lifecycle and result', async () => {
    const fleet = simFleet();
    fleet.publishDesired({ 'bld-linux64': 4 });
    await fleet.cycles(3);
    fleet.publishDesired({ 'bld-linux64': 1 });
    const metrics = new FleetMetrics({ policies: fleet.policies });
    // Scale-down waits for the pool's stabilisation window; keep cycling until it happens.
    for (let k = 0; k < 20 && fleet.calls('TerminateInstances', 'ok') === 0; k++) {
      metrics.observeCycle(await fleet.cycle(), undefined, 100, fleet.runtime.calls);
      fleet.advance(60_000);
    }
    expect(
      await sample(metrics, 'fleet_actions_total{kind="terminate",pool="bld-linux64",cause="scale-down",lifecycle="spot",result="ok"}'),
    ).to.equal(3);
    expect(
      await sample(metrics, 'fleet_actions_total{kind="terminate",pool="bld-linux64",cause="scale-down",lifecycle="spot",result="failed"}'),
    ).to.equal(0);
  });

  it('shows stale inputs and a blocked plan, drops pool series it no longer knows, and counts dry runs', async () => {
    const fleet = simFleet();
    const metrics = new FleetMetrics();
    fleet.publishDesired({ 'bld-linux64': 2 });
    metrics.observeCycle(await fleet.cycle(), undefined, 100, fleet.runtime.calls);
    expect(await sample(metrics, 'fleet_pool_desired{pool="bld-linux64"}')).to.equal(2);

    // A broken desired file and a fresh process: no last good copy in memory, but one in the state store.
    fleet.publishRaw('desired.json', 'not json');
    fleet.restart();
    fleet.advance(60_000);
    metrics.observeCycle(await fleet.cycle(), undefined, 100, fleet.runtime.calls);
    expect(await sample(metrics, 'fleet_input_stale{input="desired"}')).to.equal(1);
    expect(await sample(metrics, 'fleet_input_stale{input="manifest"}')).to.equal(0);
    expect(await sample(metrics, 'fleet_blocked')).to.equal(0);

    // No desired counts at all: the plan is blocked and no pool figure is current.
    const empty = new SimFleet({ policies: fleet.policies });
    empty.publishRaw('desired.json', 'not json');
    const blocked = await empty.cycle();
    expect(blocked.plan.blocked).to.be.a('string');
    metrics.observeCycle(blocked, undefined, 100, empty.runtime.calls);
    expect(await sample(metrics, 'fleet_blocked')).to.equal(1);
    expect(await sample(metrics, 'fleet_input_stale{input="desired"}')).to.equal(1);
    expect(await metrics.metrics()).not.to.match(/^fleet_pool_desired\{/m);

    const dry = await empty.cloud.clock.run(() => empty.runtime.reconciler.cycle({ dryRun: true }));
    metrics.observeCycle(dry, undefined, 100, empty.runtime.calls);
    expect(await sample(metrics, 'fleet_cycles_total{result="dry_run"}')).to.equal(1);
    expect(await sample(metrics, 'fleet_cycles_total{result="ok"}')).to.equal(3);
  });

  it('keeps the last picture after a failed cycle', async () => {
    const fleet = simFleet();
    const metrics = new FleetMetrics();
    fleet.publishDesired({ 'bld-linux64': 2 });
    metrics.observeCycle(await fleet.cycle(), undefined, 100, fleet.runtime.calls);
    metrics.observeCycle(undefined, new Error('state store unreachable'), 100, fleet.runtime.calls);
    expect(await sample(metrics, 'fleet_pool_desired{pool="bld-linux64"}')).to.equal(2);
    expect(await sample(metrics, 'fleet_cycles_total{result="failed"}')).to.equal(1);
  });

  it('uses its own registry: several instances live side by side, the global registry stays empty', async () => {
    const a = new FleetMetrics();
    const b = new FleetMetrics();
    a.observeCycle(undefined, new Error('x'), 1, new CallCounter());
    expect(await sample(a, 'fleet_cycles_total{result="failed"}')).to.equal(1);
    expect(await sample(b, 'fleet_cycles_total{result="failed"}')).to.equal(0);
    expect(globalRegistry.getSingleMetric('fleet_cycles_total')).to.equal(undefined);
  });
});

/** A successful cycle that saw `snap` and planned nothing: what the cost and tally metrics read. */
function sawOnly(snap: Snapshot): CycleResult {
  return {
    observation: {
      snapshot: snap,
      journal: Journal.blank({ where: 'nowhere', read: async () => undefined, write: async () => '' }),
      endsSeen: {},
      inputs: { desired: 'fresh', manifest: 'fresh' },
    },
    plan: { actions: [], timers: snap.timers, established: {}, trials: {}, pools: [] },
    outcomes: [],
    dryRun: false,
  };
}

async function absent(metrics: FleetMetrics, prefix: string): Promise<boolean> {
  return !(await metrics.metrics()).split('\n').some((l) => l.startsWith(prefix));
}

describe('metrics: cost, savings, fallback time, interruptions and the lease', () => {
  const bld = policy(); // onDemandPrice 0.2; spot prices: c5.xlarge 0.07 in 1a, 0.06 in 1b
  const observe = (metrics: FleetMetrics, snap: Snapshot) => metrics.observeCycle(sawOnly(snap), undefined, 100, new CallCounter());

  it('prices the live instances per pool and lifecycle, against what they would cost on demand', async () => {
    const metrics = new FleetMetrics({ policies: [bld] });
    observe(
      metrics,
      snapshot({
        instances: [
          instance({ az: 'us-east-1a', lifecycle: 'spot', state: 'running' }),
          instance({ az: 'us-east-1b', lifecycle: 'spot', state: 'pending' }),
          instance({ az: 'us-east-1a', lifecycle: 'on-demand', state: 'running' }),
          // Ended instances cost nothing.
          instance({ az: 'us-east-1a', lifecycle: 'spot', state: 'terminated' }),
          instance({ az: 'us-east-1a', lifecycle: 'on-demand', state: 'stopped' }),
        ],
      }),
    );
    expect(await sample(metrics, 'fleet_cost_per_hour_dollars{pool="bld-linux64",lifecycle="spot"}')).to.be.closeTo(0.13, 1e-9);
    expect(await sample(metrics, 'fleet_cost_per_hour_dollars{pool="bld-linux64",lifecycle="on-demand"}')).to.be.closeTo(0.2, 1e-9);
    expect(await sample(metrics, 'fleet_on_demand_equivalent_per_hour_dollars{pool="bld-linux64"}')).to.be.closeTo(0.6, 1e-9);
    expect(await sample(metrics, 'fleet_savings_ratio{pool="bld-linux64"}')).to.be.closeTo(1 - 0.33 / 0.6, 1e-9);
  });

  it("prefers the Price List figure to the policy's onDemandPrice, as fleet status does", async () => {
    const metrics = new FleetMetrics({ policies: [bld] });
    const listed = onDemandKey('us-east-1', 'c5.xlarge', 'Linux/UNIX');
    const snap = snapshot({
      instances: [instance({ az: 'us-east-1b' }), instance({ lifecycle: 'on-demand' })],
      onDemandPrices: { [listed]: 0.17 },
    });
    observe(metrics, snap);
    expect(await sample(metrics, 'fleet_on_demand_equivalent_per_hour_dollars{pool="bld-linux64"}')).to.be.closeTo(0.34, 1e-9);
    const total =
      ((await sample(metrics, 'fleet_cost_per_hour_dollars{pool="bld-linux64",lifecycle="spot"}')) ?? NaN) +
      ((await sample(metrics, 'fleet_cost_per_hour_dollars{pool="bld-linux64",lifecycle="on-demand"}')) ?? NaN);
    expect(total).to.be.closeTo(statusView(snap, [bld]).pools[0]?.costPerHour as number, 1e-4);
  });

  it('leaves out a figure with an unknown price instead of guessing, and the savings of an empty pool', async () => {
    const unpriced = policy({ onDemandPrice: undefined });
    const metrics = new FleetMetrics({ policies: [unpriced] });
    // No spot price for the zone of one instance; no on-demand price at all.
    observe(metrics, snapshot({ instances: [instance({ az: 'us-east-1a' }), instance({ az: 'us-east-1d' })] }));
    expect(await absent(metrics, 'fleet_cost_per_hour_dollars{pool="bld-linux64",lifecycle="spot"}')).to.equal(true);
    expect(await sample(metrics, 'fleet_cost_per_hour_dollars{pool="bld-linux64",lifecycle="on-demand"}')).to.equal(0);
    expect(await absent(metrics, 'fleet_on_demand_equivalent_per_hour_dollars{')).to.equal(true);
    expect(await absent(metrics, 'fleet_savings_ratio{')).to.equal(true);

    // Priced again: the figures come back; an empty pool costs 0 and has no savings ratio.
    const priced = new FleetMetrics({ policies: [bld] });
    observe(priced, snapshot({ instances: [instance({ az: 'us-east-1a' })] }));
    expect(await sample(priced, 'fleet_savings_ratio{pool="bld-linux64"}')).to.be.closeTo(1 - 0.07 / 0.2, 1e-9);
    observe(priced, snapshot({ instances: [] }));
    expect(await sample(priced, 'fleet_cost_per_hour_dollars{pool="bld-linux64",lifecycle="spot"}')).to.equal(0);
    expect(await sample(priced, 'fleet_on_demand_equivalent_per_hour_dollars{pool="bld-linux64"}')).to.equal(0);
    expect(await absent(priced, 'fleet_savings_ratio{')).to.equal(true);
  });

  it('matches fleet status on a real cycle of the simulated cloud', async () => {
    const fleet = simFleet();
    const metrics = new FleetMetrics({ policies: fleet.policies });
    fleet.publishDesired({ 'bld-linux64': 4 });
    await fleet.cycle();
    fleet.advance(60_000);
    const result = await fleet.cycle();
    metrics.observeCycle(result, undefined, 100, fleet.runtime.calls);
    const status = statusView(result.observation.snapshot, fleet.policies).pools.find((p) => p.pool === 'bld-linux64');
    expect(status?.spot).to.equal(4);
    const spot = await sample(metrics, 'fleet_cost_per_hour_dollars{pool="bld-linux64",lifecycle="spot"}');
    expect(spot).to.be.greaterThan(0);
    expect(spot).to.be.closeTo(status?.costPerHour as number, 1e-4);
    const onDemand = (await sample(metrics, 'fleet_on_demand_equivalent_per_hour_dollars{pool="bld-linux64"}')) as number;
    expect(onDemand).to.be.greaterThan(spot as number);
    expect(await sample(metrics, 'fleet_savings_ratio{pool="bld-linux64"}')).to.be.closeTo(1 - (spot as number) / onDemand, 1e-9);
  });

  it('counts the seconds a pool spends past fallbackAfter, from cycle to cycle', async () => {
    const other: PoolPolicy = policy({ pool: 'tst-linux64', names: 'tst-linux64-{nnn}' });
    const metrics = new FleetMetrics({ policies: [bld, other] });
    const seconds = () => sample(metrics, 'fleet_fallback_seconds_total{pool="bld-linux64"}');
    const at = (now: number, shortfallSince?: number) =>
      snapshot({ now, timers: shortfallSince === undefined ? {} : { 'bld-linux64': { shortfallSince } } });
    expect(await seconds()).to.equal(0);
    // Short for 400 s with fallbackAfter 300: in fallback, but the first cycle only sets the start.
    observe(metrics, at(T0, T0 - 400_000));
    expect(await seconds()).to.equal(0);
    observe(metrics, at(T0 + 60_000, T0 - 400_000));
    expect(await seconds()).to.equal(60);
    // Whole again: nothing more.
    observe(metrics, at(T0 + 120_000));
    expect(await seconds()).to.equal(60);
    // Short again from T0+100s: fallback from T0+400s; counted from then, not from the last cycle.
    observe(metrics, at(T0 + 180_000, T0 + 100_000));
    expect(await seconds()).to.equal(60);
    observe(metrics, at(T0 + 460_000, T0 + 100_000));
    expect(await seconds()).to.equal(120);
    expect(await sample(metrics, 'fleet_fallback_seconds_total{pool="tst-linux64"}')).to.equal(0);
  });

  it('counts each spot interruption once, by offer, and none already listed at the first cycle', async () => {
    const metrics = new FleetMetrics({ policies: [bld] });
    const before = instance({ state: 'terminated', endCause: 'spot-interruption', az: 'us-east-1a' });
    const first = instance({ state: 'terminated', endCause: 'spot-interruption', az: 'us-east-1b', instanceType: 'm5.xlarge' });
    const second = instance({ state: 'shutting-down', endCause: 'spot-interruption', az: 'us-east-1b', instanceType: 'm5.xlarge' });
    const byUser = instance({ state: 'terminated', endCause: 'user', az: 'us-east-1b', instanceType: 'm5.xlarge' });
    const series = 'fleet_interruptions_total{region="us-east-1",az="us-east-1b",instance_type="m5.xlarge"}';
    observe(metrics, snapshot({ instances: [before] }));
    expect(await absent(metrics, 'fleet_interruptions_total{')).to.equal(true);
    observe(metrics, snapshot({ instances: [before, first, byUser] }));
    expect(await sample(metrics, series)).to.equal(1);
    observe(metrics, snapshot({ instances: [before, first, second, byUser] }));
    expect(await sample(metrics, series)).to.equal(2);
    observe(metrics, snapshot({ instances: [first, second] }));
    expect(await sample(metrics, series)).to.equal(2);
    expect(await absent(metrics, 'fleet_interruptions_total{region="us-east-1",az="us-east-1a"')).to.equal(true);
  });

  it('remembers a bounded number of interrupted instances, the newest', () => {
    const tally = new InterruptionTally(2);
    const [a, b, c] = [1, 2, 3].map(() => instance({ state: 'terminated', endCause: 'spot-interruption' })) as [
      ReturnType<typeof instance>,
      ReturnType<typeof instance>,
      ReturnType<typeof instance>,
    ];
    expect(tally.observe([])).to.deep.equal([]);
    expect(tally.observe([a, b])).to.deep.equal([a, b]);
    expect(tally.observe([a, b, c])).to.deep.equal([c]);
    // a, the oldest, was forgotten to keep two: seen again, it counts again; b and c do not.
    expect(tally.observe([a, b, c])).to.deep.equal([a]);
    expect(tally.observe([c])).to.deep.equal([]);
  });

  it('shows whether this replica holds the leader lease', async () => {
    const metrics = new FleetMetrics();
    expect(await absent(metrics, 'fleet_leader{')).to.equal(true);
    metrics.observeLeader('host-a:42:abcdef', true);
    expect(await sample(metrics, 'fleet_leader{replica="host-a:42:abcdef"}')).to.equal(1);
    metrics.observeLeader('host-a:42:abcdef', false);
    expect(await sample(metrics, 'fleet_leader{replica="host-a:42:abcdef"}')).to.equal(0);
  });

  it('keeps the cost figures of the last good cycle after a failed one', async () => {
    const metrics = new FleetMetrics({ policies: [bld] });
    observe(metrics, snapshot({ instances: [instance({ az: 'us-east-1a' })] }));
    metrics.observeCycle(undefined, new Error('state store unreachable'), 100, new CallCounter());
    expect(await sample(metrics, 'fleet_cost_per_hour_dollars{pool="bld-linux64",lifecycle="spot"}')).to.be.closeTo(0.07, 1e-9);
  });
});

describe('metrics: /healthz', () => {
  const INTERVAL = 60_000;

  function clocked() {
    let now = 1_000_000;
    const health = new Health({ intervalMs: INTERVAL, now: () => now });
    return { health, advance: (ms: number) => (now += ms) };
  }

  it('is healthy while starting, until three intervals pass without a cycle', () => {
    const { health, advance } = clocked();
    expect(health.report()).to.deep.include({ healthy: true });
    expect(health.report().body).to.deep.equal({ status: 'starting', lastSuccess: null, lastError: null });
    advance(3 * INTERVAL - 1);
    expect(health.report().healthy).to.equal(true);
    advance(1);
    expect(health.report()).to.deep.equal({ healthy: false, body: { status: 'stale', lastSuccess: null, lastError: null } });
  });

  it('goes 200 → 503 when the last success is older than three intervals, and on a failed cycle', async () => {
    const { health, advance } = clocked();
    const fleet = simFleet();
    fleet.publishDesired({ 'bld-linux64': 1 });
    const result = await fleet.cycle();

    advance(1000);
    health.observe(result, undefined);
    expect(health.report().body).to.deep.include({ status: 'ok', lastSuccess: new Date(1_001_000).toISOString() });
    advance(3 * INTERVAL);
    expect(health.report().healthy).to.equal(true);
    advance(1);
    expect(health.report()).to.deep.include({ healthy: false });
    expect(health.report().body.status).to.equal('stale');

    health.observe(result, undefined);
    expect(health.report().healthy).to.equal(true);
    advance(INTERVAL);
    health.observe(undefined, Object.assign(new Error('Request has expired.\nsecond line'), { name: 'RequestExpired' }));
    const failing = health.report();
    expect(failing.healthy).to.equal(false);
    expect(failing.body.status).to.equal('failing');
    expect(failing.body.lastError?.message).to.equal('RequestExpired: Request has expired.');
    expect(failing.body.lastSuccess).to.be.a('string');

    health.observe(result, undefined);
    expect(health.report().body).to.deep.include({ status: 'ok' });
    expect(health.report().body.lastError).to.not.equal(null);
  });

  it('is unhealthy at once when the first cycle fails, and healthy as a standby that keeps checking the lease', () => {
    const { health, advance } = clocked();
    health.observe(undefined, new Error('boom'));
    expect(health.report().body.status).to.equal('failing');
    health.observeStandby();
    expect(health.report()).to.deep.include({ healthy: true });
    expect(health.report().body.status).to.equal('standby');
    advance(3 * INTERVAL + 1);
    expect(health.report().body.status).to.equal('stale');
  });

  it('is unhealthy as a standby that has seen no replica lead for a lease TTL (three intervals)', () => {
    const { health, advance } = clocked();
    // A corrupt lease or an unreachable state store: standing by, no leader in sight.
    health.observeStandby(false);
    expect(health.report()).to.deep.include({ healthy: true });
    advance(3 * INTERVAL);
    health.observeStandby(false);
    expect(health.report().healthy).to.equal(true);
    advance(1);
    health.observeStandby(false);
    expect(health.report()).to.deep.include({ healthy: false });
    expect(health.report().body.status).to.equal('leaderless');
    // A leader seen again: a healthy standby.
    health.observeStandby(true);
    expect(health.report().body.status).to.equal('standby');
    expect(health.report().healthy).to.equal(true);
  });
});

describe('metrics: the HTTP server', () => {
  let server: MetricsServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it("serves /metrics in the registry's text format, /healthz as JSON, 404 otherwise", async () => {
    let now = 0;
    const metrics = new FleetMetrics();
    const health = new Health({ intervalMs: 1000, now: () => now });
    server = await startMetricsServer(0, metrics, health);
    expect(server.port).to.be.greaterThan(0);
    const base = `http://127.0.0.1:${server.port}`;

    const m = await fetch(`${base}/metrics`);
    expect(m.status).to.equal(200);
    expect(m.headers.get('content-type')).to.equal(metrics.contentType);
    expect(await m.text()).to.include('fleet_cycles_total{result="ok"} 0');

    const h = await fetch(`${base}/healthz`);
    expect(h.status).to.equal(200);
    expect(h.headers.get('content-type')).to.equal('application/json');
    expect(await h.json()).to.deep.equal({ status: 'starting', lastSuccess: null, lastError: null });

    now = 30_000;
    const stale = await fetch(`${base}/healthz`);
    expect(stale.status).to.equal(503);
    expect(await stale.json()).to.deep.include({ status: 'stale' });

    expect((await fetch(`${base}/`)).status).to.equal(404);
    expect((await fetch(`${base}/metrics/extra`)).status).to.equal(404);
    expect((await fetch(`${base}/healthz?verbose=1`)).status).to.equal(503);
  });

  it('answers HEAD like GET without a body, and other methods 405 with Allow', async () => {
    server = await startMetricsServer(0, new FleetMetrics(), new Health({ intervalMs: 1000 }));
    const base = `http://127.0.0.1:${server.port}`;
    for (const path of ['/metrics', '/healthz']) {
      const head = await rawRequest(server.port, `HEAD ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
      expect(head, path).to.match(/^HTTP\/1\.1 200 /);
      expect(head.split('\r\n\r\n')[1], `${path} body`).to.equal('');
      for (const method of ['POST', 'PUT', 'DELETE']) {
        const r = await fetch(`${base}${path}`, { method });
        expect(r.status, `${method} ${path}`).to.equal(405);
        expect(r.headers.get('allow')).to.equal('GET, HEAD');
      }
    }
    expect((await fetch(`${base}/nothing`, { method: 'POST' })).status).to.equal(404);
  });

  it('listens on loopback unless told otherwise', async () => {
    server = await startMetricsServer(0, new FleetMetrics(), new Health({ intervalMs: 1000 }));
    expect(server.address).to.equal('127.0.0.1');
    const other = Object.values(networkInterfaces())
      .flat()
      .find((i) => i && i.family === 'IPv4' && !i.internal);
    if (other) expect(await connects(other.address, server.port)).to.equal(false);
    await server.close();
    server = await startMetricsServer(0, new FleetMetrics(), new Health({ intervalMs: 1000 }), { host: '0.0.0.0' });
    expect(server.address).to.equal('0.0.0.0');
    if (other) expect(await connects(other.address, server.port)).to.equal(true);
  });

  it('keeps answering /healthz with many idle connections open, holding no more than its cap', async () => {
    server = await startMetricsServer(0, new FleetMetrics(), new Health({ intervalMs: 1000 }), { maxConnections: 8 });
    const port = server.port;
    const idle = await Promise.all(Array.from({ length: 40 }, () => openSocket(port)));
    try {
      for (let i = 0; i < 3; i++) expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).to.equal(200);
      const stillOpen = await until(
        'idle connections closed down to the cap',
        async () => {
          const n = idle.filter((s) => !s.closed).length;
          return n <= 8 ? n : undefined;
        },
        5_000,
        () => '',
      );
      expect(stillOpen).to.be.at.most(8);
    } finally {
      for (const s of idle) s.destroy();
    }
  });

  it('closes a connection that sends nothing', async () => {
    server = await startMetricsServer(0, new FleetMetrics(), new Health({ intervalMs: 1000 }), { idleTimeoutMs: 100 });
    const socket = await openSocket(server.port);
    await until(
      'the idle connection closed by the server',
      async () => (socket.closed ? true : undefined),
      5_000,
      () => '',
    );
  });

  it('refuses a port already in use with an error naming the port', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, resolve));
    const port = (taken.address() as { port: number }).port;
    try {
      const error = await startMetricsServer(port, new FleetMetrics(), new Health({ intervalMs: 1000 })).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(String(error)).to.equal(`Error: metrics port ${port} is already in use`);
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  });
});
