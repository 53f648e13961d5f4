import type { PoolPolicy } from '../domain/policy.js';
import { simOnDemandPrice } from '../fake-cloud/catalog.js';
import { type CauseCounts, CauseTally, countsText, totalCounts } from './causes.js';
import type { SimCi } from './ci/ci.js';
import type { WorldWorkers } from './ci/world-workers.js';
import { type JobFigures, type WorkingHours, jobFigures } from './ci/figures.js';
import type { SimCloud } from '../fake-cloud/cloud.js';
import type { RolloutCapacity, RolloutFigures, RolloutTracker } from './rollout-figures.js';
import type { Sample } from './sampler.js';
import type { SimInstance } from '../fake-cloud/world.js';

export type { Sample } from './sampler.js';

export interface PoolSummary {
  readonly pool: string;
  readonly launches: { readonly spot: number; readonly onDemand: number };
  readonly terminatedByFleet: number;
  readonly interruptions: number;
  readonly leftIdle: number;
  /** workers on a broken image that shut down before doing any work */
  readonly bootFailures: number;
  /** live at the end on an image that is no longer the pool's current one */
  readonly outdatedAtEnd: number;
  readonly peakWanted: number;
  /** share of wanted worker-minutes that had no running worker */
  readonly unmetShare: number;
  /** wanted worker-minutes that had no running worker */
  readonly unmetWorkerMinutes: number;
  /** dollars */
  readonly cost: number;
  /** the pool's instance-hours at the cheapest spot price of its offers at each cycle */
  readonly hindsightCost: number;
  /**
   * the lowest running capacity on launchable (non-drained) images against wanted, at a cycle's end
   * while one of the pool's rollouts was under way (null: none was)
   */
  readonly rolloutCapacity: RolloutCapacity | null;
  /** launches the cloud made, by the cause of fleet's action */
  readonly launched: CauseCounts['launched'];
  /** workers ended: fleet's own by the cause of the action that ended them, the rest as EC2 says (`spot-interruption`) */
  readonly ended: CauseCounts['ended'];
  /** the simulated CI's work on the pool's workers */
  readonly jobs: JobFigures;
  /** billed worker-hours that ran no job (booting, idle, shutting down) */
  readonly idleWorkerHours: number;
}

export interface SimSummary {
  readonly seed: number;
  readonly start: string;
  readonly end: string;
  readonly cycles: number;
  readonly failedCycles: number;
  readonly pools: readonly PoolSummary[];
  readonly launchesPerZone: Readonly<Record<string, number>>;
  /** share of instance-hours bought on the spot market */
  readonly spotShare: number;
  readonly instanceHours: number;
  /** dollars */
  readonly cost: number;
  /** what the same instance-hours would have cost on demand */
  readonly onDemandCost: number;
  /**
   * The hindsight optimum: every instance-hour bought at the cheapest spot price of its pool's
   * offers at that moment (sampled at each cycle, ignoring capacity and max prices): a floor no
   * placement could beat.
   */
  readonly hindsightCost: number;
  /** wanted worker-minutes that had no running worker, over all pools */
  readonly unmetWorkerMinutes: number;
  /** share of all wanted worker-minutes that had no running worker */
  readonly unmetShare: number;
  readonly interruptions: number;
  /** every pool's launches by cause */
  readonly launched: CauseCounts['launched'];
  /** every pool's ended workers by cause */
  readonly ended: CauseCounts['ended'];
  /** the simulated CI's work over all pools */
  readonly jobs: JobFigures;
  /** billed worker-hours that ran no job, over all pools */
  readonly idleWorkerHours: number;
  /** every image published during the run, per pool and region: workers that booted it, canary phase, turnover */
  readonly rollouts: readonly RolloutFigures[];
  /** AMIs drained during the run, by whom and why */
  readonly drained: readonly { readonly ami: string; readonly by: string; readonly reason: string }[];
  readonly api: {
    readonly total: number;
    readonly byAction: Readonly<Record<string, number>>;
    readonly failed: Readonly<Record<string, number>>;
    /** calls per cycle that changed nothing */
    readonly perQuietCycle: number;
    readonly createNetworkInterface: number;
  };
}

export interface SummaryInput {
  readonly cloud: SimCloud;
  readonly policies: readonly PoolPolicy[];
  readonly samples: readonly Sample[];
  readonly seed: number;
  readonly start: number;
  readonly end: number;
  readonly cycles: number;
  readonly failedCycles: number;
  readonly actionCycles: number;
  readonly quietCycles: number;
  readonly quietCalls: number;
  readonly intervalMs: number;
  /** "pool region" → the image fleet considers current at the end */
  readonly currentImages: Readonly<Record<string, string>>;
  readonly drained: SimSummary['drained'];
  readonly rollouts: RolloutTracker;
  /** fleet's launches and terminations by cause, as the run's cycles carried them out */
  readonly causes?: CauseTally;
  readonly ci: SimCi;
  readonly workers: WorldWorkers;
  /** the workload's working hours, whose jobs' waits are summarised apart */
  readonly workingHours?: WorkingHours;
}

const round = (n: number, digits = 2) => Math.round(n * 10 ** digits) / 10 ** digits;

export function summarise(input: SummaryInput): SimSummary {
  const { cloud, policies, samples } = input;
  const all: SimInstance[] = [...cloud.world.instances.values(), ...cloud.world.archive];
  const launchesPerZone: Record<string, number> = {};
  let spotHours = 0;
  let hours = 0;
  let cost = 0;
  let onDemandCost = 0;
  for (const i of all) {
    launchesPerZone[i.az] = (launchesPerZone[i.az] ?? 0) + 1;
    const lived = (Math.min(i.billedUntil, input.end) - i.launchTime) / 3600_000;
    hours += lived;
    if (i.lifecycle === 'spot') spotHours += lived;
    cost += i.cost;
    onDemandCost += lived * (simOnDemandPrice(i.region, i.instanceType, i.productDescription) ?? 0);
  }
  const events = cloud.world.events;
  const stepMinutes = input.intervalMs / 60_000;
  const totals = { wanted: 0, unmet: 0, hindsight: 0, idleHours: 0 };
  const causes = input.causes ?? new CauseTally();
  const pools = policies.map((policy): PoolSummary => {
    const mine = all.filter((i) => i.tags['fleet:pool'] === policy.pool);
    const work = input.ci.tally(policy.pool, input.end);
    const poolCost = mine.reduce((sum, i) => sum + i.cost, 0);
    const billedHours = mine.reduce((sum, i) => sum + (Math.min(i.billedUntil, input.end) - i.launchTime) / 3600_000, 0);
    const idleHours = Math.max(0, billedHours - work.busyMs / 3600_000);
    const ended = (kind: string) => events.filter((e) => e.kind === kind && e.instance.tags['fleet:pool'] === policy.pool).length;
    let wanted = 0;
    let unmet = 0;
    let peak = 0;
    let hindsight = 0;
    for (const s of samples) {
      const p = s.pools[policy.pool];
      if (!p) continue;
      wanted += p.wanted;
      unmet += Math.max(0, p.wanted - p.running);
      peak = Math.max(peak, p.wanted);
      hindsight += p.hindsightCost;
    }
    totals.wanted += wanted;
    totals.unmet += unmet;
    totals.hindsight += hindsight;
    totals.idleHours += idleHours;
    return {
      pool: policy.pool,
      launches: {
        spot: mine.filter((i) => i.lifecycle === 'spot').length,
        onDemand: mine.filter((i) => i.lifecycle === 'on-demand').length,
      },
      terminatedByFleet: mine.filter((i) => i.stateReason === 'Client.UserInitiatedShutdown').length,
      interruptions: ended('interrupted'),
      leftIdle: ended('self-shutdown'),
      bootFailures: ended('boot-failure'),
      outdatedAtEnd: mine.filter(
        (i) => (i.state === 'running' || i.state === 'pending') && i.ami !== input.currentImages[`${policy.pool} ${i.region}`],
      ).length,
      peakWanted: peak,
      unmetShare: wanted === 0 ? 0 : round(unmet / wanted, 4),
      unmetWorkerMinutes: round(unmet * stepMinutes, 1),
      cost: round(mine.reduce((sum, i) => sum + i.cost, 0)),
      hindsightCost: round(hindsight),
      rolloutCapacity: input.rollouts.lowestCapacity(policy.pool),
      ...causes.counts(policy.pool, mine),
      jobs: jobFigures([work], poolCost, input.workingHours),
      idleWorkerHours: round(idleHours, 1),
    };
  });
  const overall = totalCounts(pools);
  const byAction: Record<string, number> = {};
  const failed: Record<string, number> = {};
  for (const c of cloud.calls) {
    byAction[c.action] = (byAction[c.action] ?? 0) + 1;
    if (c.result !== 'ok') failed[c.result] = (failed[c.result] ?? 0) + 1;
  }
  for (const o of cloud.objects.log) byAction[`S3 ${o.action}`] = (byAction[`S3 ${o.action}`] ?? 0) + 1;
  return {
    seed: input.seed,
    start: new Date(input.start).toISOString(),
    end: new Date(input.end).toISOString(),
    cycles: input.cycles,
    failedCycles: input.failedCycles,
    pools,
    rollouts: input.rollouts.figures(all),
    drained: input.drained,
    launchesPerZone: Object.fromEntries(Object.entries(launchesPerZone).sort(([a], [b]) => a.localeCompare(b))),
    spotShare: hours === 0 ? 0 : round(spotHours / hours, 4),
    instanceHours: round(hours, 1),
    cost: round(cost),
    onDemandCost: round(onDemandCost),
    hindsightCost: round(totals.hindsight),
    unmetWorkerMinutes: round(totals.unmet * stepMinutes, 1),
    unmetShare: totals.wanted === 0 ? 0 : round(totals.unmet / totals.wanted, 4),
    interruptions: pools.reduce((sum, p) => sum + p.interruptions, 0),
    ...overall,
    jobs: jobFigures(
      policies.map((p) => input.ci.tally(p.pool, input.end)),
      cost,
      input.workingHours,
    ),
    idleWorkerHours: round(totals.idleHours, 1),
    api: {
      total: cloud.calls.length,
      byAction,
      failed,
      perQuietCycle: input.quietCycles === 0 ? 0 : round(input.quietCalls / input.quietCycles, 2),
      createNetworkInterface: cloud.calls.filter((c) => c.action === 'CreateNetworkInterface').length,
    },
  };
}

export function summaryText(s: SimSummary): string {
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  const lines = [
    `Simulated ${s.start} → ${s.end} (seed ${s.seed}): ${s.cycles} cycles, ${s.failedCycles} failed.`,
    '',
    'pool            spot launches  on-demand  interrupted  left idle  terminated  peak wanted  unmet  outdated',
    ...s.pools.map(
      (p) =>
        `${p.pool.padEnd(16)}${String(p.launches.spot).padStart(13)}${String(p.launches.onDemand).padStart(11)}${String(p.interruptions).padStart(13)}${String(p.leftIdle).padStart(11)}${String(p.terminatedByFleet).padStart(12)}${String(p.peakWanted).padStart(13)}${pct(p.unmetShare).padStart(7)}${String(p.outdatedAtEnd).padStart(10)}`,
    ),
    ...causeLines(s),
    ...jobLines(s),
    ...s.drained.map((d) => `Drained ${d.ami} (${d.by}): ${d.reason}`),
    ...rolloutLines(s),
    '',
    `Launches per zone: ${
      Object.entries(s.launchesPerZone)
        .map(([az, n]) => `${az} ${n}`)
        .join(', ') || 'none'
    }`,
    `Spot share: ${pct(s.spotShare)} of ${s.instanceHours} instance-hours`,
    `Cost: $${s.cost.toFixed(2)} (all on-demand: $${s.onDemandCost.toFixed(2)}, saved ${s.onDemandCost > 0 ? pct(1 - s.cost / s.onDemandCost) : '-'}; hindsight optimum: $${s.hindsightCost.toFixed(2)})`,
    `Unmet capacity: ${s.unmetWorkerMinutes} worker-minutes (${pct(s.unmetShare)} of wanted); interruptions: ${s.interruptions}`,
    `API calls: ${s.api.total} (${s.api.perQuietCycle} per cycle that changed nothing); CreateNetworkInterface: ${s.api.createNetworkInterface}`,
    `  by action: ${Object.entries(s.api.byAction)
      .map(([a, n]) => `${a} ${n}`)
      .join(', ')}`,
    ...(Object.keys(s.api.failed).length > 0
      ? [
          `  refused: ${Object.entries(s.api.failed)
            .map(([c, n]) => `${c} ${n}`)
            .join(', ')}`,
        ]
      : []),
    '',
    'All figures come from the simulated cloud (generated prices, capacity and demand), not from AWS.',
  ];
  return lines.join('\n');
}

/** Each pool's launches and ended workers by cause. */
function causeLines(s: SimSummary): string[] {
  return ['', 'By cause:', ...s.pools.map((p) => `${p.pool.padEnd(16)}launched: ${countsText(p.launched)}; ended: ${countsText(p.ended)}`)];
}

/** The CI's work per pool and over the run. */
function jobLines(s: SimSummary): string[] {
  const counts = (c: Readonly<Record<string, number>>) =>
    Object.entries(c)
      .map(([k, n]) => `${k} ${n}`)
      .join(', ') || 'none';
  const row = (name: string, j: JobFigures, idle: number) =>
    `${name.padEnd(16)}${String(j.completed).padStart(9)}${duration(j.waitSeconds.p50).padStart(10)}${duration(j.waitSeconds.p95).padStart(10)}${duration(j.waitSeconds.max).padStart(10)}${String(Object.values(j.killed).reduce((a, b) => a + b, 0)).padStart(8)}${String(j.lostJobMinutes).padStart(12)}${(j.costPerJob === null ? '-' : `$${j.costPerJob.toFixed(3)}`).padStart(10)}${String(idle).padStart(11)}`;
  return [
    '',
    'jobs            completed  wait p50  wait p95  wait max  killed  lost (min)  $ per job  idle (h)',
    ...s.pools.map((p) => row(p.pool, p.jobs, p.idleWorkerHours)),
    row('all pools', s.jobs, s.idleWorkerHours),
    ...workingHoursLines(s.jobs),
    `Jobs killed by cause: ${counts(s.jobs.killed)}`,
  ];
}

function workingHoursLines(jobs: JobFigures): string[] {
  const w = jobs.workingHours;
  if (!w) return [];
  const waits = `${duration(w.waitSeconds.p50)}, p95 ${duration(w.waitSeconds.p95)}, max ${duration(w.waitSeconds.max)}`;
  return [`Working hours (${w.utc} UTC): ${w.completed} jobs completed, wait p50 ${waits}`];
}

/** "45s", "6m 10s", "3h 05m" */
export function duration(seconds: number): string {
  if (seconds < 60) return `${seconds}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m ${String(seconds % 60).padStart(2, '0')}s`;
  return `${Math.floor(seconds / 3600)}h ${String(Math.floor((seconds % 3600) / 60)).padStart(2, '0')}m`;
}

/** The rollouts of the images published during the run, and each pool's lowest capacity while one was under way. */
function rolloutLines(s: SimSummary): string[] {
  if (s.rollouts.length === 0) return [];
  const canary = (r: RolloutFigures) =>
    r.canarySeconds === null
      ? 'still on trial'
      : `${r.canaryEnd === 'drained' ? `drained (${r.drainedBy ?? '?'})` : 'established'} after ${duration(r.canarySeconds)}`;
  const capacity = s.pools.flatMap((p) =>
    p.rolloutCapacity
      ? [`${p.pool} ${p.rolloutCapacity.running} of ${p.rolloutCapacity.wanted} wanted (${p.rolloutCapacity.at.slice(0, 16)})`]
      : [],
  );
  return [
    '',
    'Rollouts of the images published during the run (booted: workers that ever ran it):',
    'pool            region       image                   published         booted  canary phase                  turnover',
    ...s.rollouts.map(
      (r) =>
        `${r.pool.padEnd(16)}${r.region.padEnd(13)}${r.ami.padEnd(24)}${r.published.slice(0, 16).padEnd(18)}${String(r.booted).padStart(6)}  ${canary(r).padEnd(30)}${r.turnoverSeconds === null ? '-' : duration(r.turnoverSeconds)}`,
    ),
    ...(capacity.length > 0 ? [`Lowest running capacity on launchable images during rollouts: ${capacity.join('; ')}`] : []),
  ];
}
