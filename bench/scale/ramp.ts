// 0 → 1,000 running in one pool on the simulated cloud, EC2's token buckets enforced, while another
// pool's cycles are timed throughout. The cycles are scheduled as the service's loop schedules them
// (the next one `interval` after the last one started, or at once if that one ran longer). Simulated
// time and calls, not AWS's.

import type { PoolPolicy } from '../../src/domain/policy.js';
import { EC2_BUCKETS } from '../../src/cloud/limiter.js';
import { DEFAULT_WORLD } from '../../src/fake-cloud/world.js';
import { policy } from '../../test/support/builders.js';
import { SimFleet } from '../../test/support/sim-fleet.js';

const SUBNETS = ['subnet-0a', 'subnet-0b', 'subnet-0c'];
const RAMP_TYPES = ['c5.xlarge', 'c5a.xlarge', 'm5.xlarge'];
const TARGET = 1000;
const CYCLES = 8;

function policies(): PoolPolicy[] {
  const regions = { 'us-east-1': { subnets: SUBNETS, securityGroups: ['sg-0a'] } };
  return [
    // User data without {name}: launches into one offer share calls.
    policy({
      pool: 'ramp',
      names: 'ramp-{nnnn}',
      regions,
      instanceTypes: RAMP_TYPES,
      size: { min: 0, max: 1200 },
      onDemand: { max: 0 },
      userData: '#cloud-config\nwrite_files:\n  - path: /etc/worker-pool\n    content: "{pool} {region} {az}"\n',
    }),
    policy({ pool: 'other', names: 'other-{nnn}', regions, instanceTypes: ['m5a.xlarge'], size: { min: 0, max: 50 } }),
  ];
}

interface CycleRecord {
  readonly due: number;
  readonly start: number;
  readonly end: number;
}

/**
 * `capacity` spot instances in 3 of the ramp pool's 9 offers (by price: the 3rd, 5th and 8th
 * cheapest), none in the others: the two cheapest cost a refused call each to find out.
 */
export async function measureRamp(capacity: number): Promise<Record<string, unknown>> {
  const fleet = new SimFleet({ policies: policies(), cloud: { market: { crunchesPerDay: 0 }, world: { interruptionRatePerHour: 0 } } });
  const { world } = fleet.cloud;
  const now = fleet.cloud.clock.now();
  const offers = SUBNETS.flatMap((s) => {
    const az = world.subnets.get(s)?.az as string;
    return RAMP_TYPES.map((type) => ({ az, type, price: world.market.spotPrice('us-east-1', az, type, 'Linux/UNIX', now) as number }));
  }).sort((a, b) => a.price - b.price);
  for (const [rank, offer] of offers.entries())
    world.market.setCapacity(offer.az, offer.type, 'spot', [2, 4, 7].includes(rank) ? capacity : 0);
  for (const s of SUBNETS) world.market.setCapacity(world.subnets.get(s)?.az as string, 'm5a.xlarge', 'spot', 100);

  const interval = fleet.config.interval * 1000;
  fleet.publishDesired({ ramp: 0, other: 10 });
  await fleet.cycles(3);
  const t0 = fleet.cloud.clock.now();
  const firstCall = fleet.cloud.calls.length;
  const cycles: CycleRecord[] = [];
  let start = t0;
  for (let k = 0; k < CYCLES; k++) {
    fleet.cloud.clock.advanceTo(start);
    fleet.cloud.settle();
    // The other pool wants 12, then 10, then 12 ...: it has something to do every interval.
    fleet.publishDesired({ ramp: TARGET, other: k % 2 === 0 ? 12 : 10 });
    const result = await fleet.cycleResult();
    if (result.error) throw new Error(`ramp cycle ${k} stopped: ${result.error.message}`);
    const end = fleet.cloud.clock.now();
    cycles.push({ due: t0 + k * interval, start, end });
    start = Math.max(start + interval, end);
  }
  fleet.cloud.clock.advanceTo(start);
  fleet.cloud.settle();

  const calls = fleet.cloud.calls.slice(firstCall);
  const poolOf = (id: string) => world.instances.get(id)?.tags['fleet:pool'];
  const runs = calls.filter((c) => c.action === 'RunInstances' && c.detail?.pool === 'ramp');
  const running = world.events
    .filter((e) => e.kind === 'running' && e.instance.tags['fleet:pool'] === 'ramp' && e.t >= t0)
    .map((e) => e.t)
    .sort((a, b) => a - b);
  const reached = running.length >= TARGET ? (running[TARGET - 1] as number) - t0 : undefined;
  const lastRampCall = Math.max(...runs.filter((c) => c.result === 'ok').map((c) => c.t));
  // EC2's bound: the instance bucket's 1,000 tokens at once, then 2 a second; then the launch latency.
  const bucket = EC2_BUCKETS['run-instances'];
  const bucketMs = (Math.max(0, TARGET - bucket.capacity) / bucket.refillPerSecond) * 1000;
  const boundMs = bucketMs + DEFAULT_WORLD.launchLatencyMs[1];

  // When each interval's decision for each pool went out: its first mutating call after the tick.
  const actedAt = (pool: string, from: number, to: number) =>
    calls.find(
      (c) =>
        c.t >= from &&
        c.t <= to &&
        ((c.action === 'RunInstances' && c.detail?.pool === pool) ||
          (c.action === 'TerminateInstances' && (c.detail?.instanceIds as string[] | undefined)?.some((id) => poolOf(id) === pool))),
    )?.t;
  const perCycle = cycles.map((c, k) => {
    const other = actedAt('other', c.start, c.end);
    const ramp = actedAt('ramp', c.start, c.end);
    return {
      cycle: k,
      dueS: round((c.due - t0) / 1000),
      lateS: round((c.start - c.due) / 1000),
      tookS: round((c.end - c.start) / 1000),
      ...(other !== undefined ? { otherActedAfterS: round((other - c.due) / 1000) } : {}),
      ...(ramp !== undefined ? { rampActedAfterS: round((ramp - c.due) / 1000) } : {}),
    };
  });
  // Every interval [t0 + kI, t0 + (k+1)I) of the run had a cycle start in it.
  const everyInterval = cycles.every((_, k) => cycles.some((c) => c.start >= t0 + k * interval && c.start < t0 + (k + 1) * interval));
  const waits = perCycle.flatMap((c) => [c.otherActedAfterS, c.rampActedAfterS].filter((w): w is number => w !== undefined));
  return {
    what: `0 → 1,000 running in one pool (user data without {name}; spot capacity ${capacity} in 3 of its 9 offers, none in the others), another pool changing every interval; simulated cloud, EC2 buckets enforced, launch latency 20–90 s, interval 60 s`,
    capacityPerOffer: capacity,
    secondsTo1000Running: reached === undefined ? null : round(reached / 1000),
    boundSeconds: round(boundMs / 1000),
    ratioToBound: reached === undefined ? null : Math.round((reached / boundMs) * 100) / 100,
    lastLaunchCallS: round((lastRampCall - t0) / 1000),
    runInstancesCalls: runs.length,
    refusedCalls: runs.filter((c) => c.result !== 'ok').length,
    callSizes: runs.map((c) => `${c.detail?.count}${c.result === 'ok' ? '' : ` ${c.result}`}`),
    nameTagsSetInFirstCycle: calls.filter((c) => c.action === 'CreateTags' && c.result === 'ok' && c.t <= (cycles[0] as CycleRecord).end)
      .length,
    unnamedAtEnd: [...world.instances.values()].filter((i) => i.tags['fleet:pool'] === 'ramp' && i.tags.Name === undefined).length,
    longestCycleS: Math.max(...perCycle.map((c) => c.tookS)),
    longestLateStartS: Math.max(...perCycle.map((c) => c.lateS)),
    longestWaitForActionS: Math.max(...waits),
    everyIntervalHadItsCycle: everyInterval,
    cycles: perCycle,
  };
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}
