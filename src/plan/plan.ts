import type { Action } from '../domain/actions.js';
import type { PoolPolicy } from '../domain/policy.js';
import { isLive } from '../domain/types.js';
import type { PoolTimers, Snapshot, Trial } from '../domain/snapshot.js';
import { ImageIndex } from '../policy/images.js';
import { PriceBook } from '../policy/prices.js';
import { type PoolDesired, clampedCount, poolDesired } from './demand.js';
import { type PoolPlan, type PoolReport, planPool } from './pool.js';
import { establishedFacts, poolGroups, rolloutsOf, trialFacts } from './rollouts.js';

export interface Plan {
  readonly actions: readonly Action[];
  /** the per-pool timers to keep for the next cycle */
  readonly timers: Readonly<Record<string, PoolTimers>>;
  /** images that have proved themselves, to keep for the next cycle (rolloutKey → epoch ms) */
  readonly established: Readonly<Record<string, number>>;
  /** the workers that booted each image on trial, to keep for the next cycle (rolloutKey → trial) */
  readonly trials: Readonly<Record<string, Trial>>;
  readonly pools: readonly PoolReport[];
  /** why nothing may change this cycle, when that is so */
  readonly blocked?: string;
}

/** A pool's wanted size: its desired count clamped to [min, max]; a pool that is missing gets its min. */
export function desiredSize(policy: PoolPolicy, desired: Readonly<Record<string, number>>): number {
  return clampedCount(policy, desired[policy.pool]);
}

/**
 * The whole decision of one cycle: a pure function of the snapshot and the policies.
 * `fleet plan`, `reconcile --dry-run` and the service all run exactly this.
 */
export function plan(snapshot: Snapshot, policies: readonly PoolPolicy[], fleet: string): Plan {
  if (snapshot.desired === undefined || snapshot.images === undefined) {
    const missing = snapshot.desired === undefined ? 'desired counts' : 'AMI manifest';
    return {
      actions: [],
      timers: snapshot.timers,
      established: snapshot.established ?? {},
      trials: snapshot.trials ?? {},
      pools: [],
      blocked: `no usable ${missing}: nothing is launched or retired`,
    };
  }
  const images = new ImageIndex(snapshot.images, snapshot.drained);
  const prices = new PriceBook(snapshot.spotPrices, snapshot.onDemandPrices);
  const groups = poolGroups(snapshot);
  const rollouts = rolloutsOf(snapshot, policies, images, groups);
  const unobserved = new Set(snapshot.unobservedRegions ?? []);

  const launches: Action[] = [];
  const terminations: Action[] = [];
  const retirements: Action[] = [];
  const pools: PoolReport[] = [];
  const timers: Record<string, PoolTimers> = {};
  for (const policy of [...policies].sort((a, b) => a.pool.localeCompare(b.pool))) {
    const instances = groups.instances.get(policy.pool) ?? [];
    const pending = groups.pending.get(policy.pool) ?? [];
    const wanted = keepUnknown(
      policy,
      poolDesired(policy, snapshot, snapshot.timers[policy.pool]),
      instances.filter(isLive).length + pending.length,
    );
    // Written out whole, with undefined where the snapshot has nothing: one shape for every pool's context.
    const planned = planPool({
      policy,
      fleet,
      desired: wanted.desired,
      now: snapshot.now,
      regions: snapshot.regions,
      subnets: snapshot.subnets,
      prices,
      images,
      rollouts: rollouts.get(policy.pool) ?? new Map(),
      unavailable: snapshot.unavailable,
      interruptions: snapshot.interruptions,
      instances,
      pending,
      timers: snapshot.timers[policy.pool] ?? {},
      terminatedByFleet: snapshot.terminatedByFleet,
      guardDrained: snapshot.guardDrained,
      events: snapshot.events,
      busy: busyOf(snapshot, policy.pool),
    });
    const withWanted = withDemand(planned, wanted);
    const unusable = (snapshot.unusableImages ?? [])
      .filter((i) => i.pool === policy.pool)
      .map((i) => `image ${i.id} in ${i.region} is never launched: ${i.reason}`);
    const result =
      unusable.length > 0
        ? { ...withWanted, report: { ...withWanted.report, notes: [...unusable, ...withWanted.report.notes] } }
        : withWanted;
    // A pool with a region that could not be listed is planned (for the report) but changes nothing:
    // what it cannot see there might be running.
    const frozen = Object.keys(policy.regions).filter((r) => unobserved.has(r));
    if (frozen.length > 0) {
      pools.push({
        ...result.report,
        notes: [`region ${frozen.join(', ')} could not be listed: this pool changes nothing this cycle`, ...result.report.notes],
      });
      const kept = snapshot.timers[policy.pool];
      if (kept) timers[policy.pool] = kept;
      continue;
    }
    launches.push(...result.launches);
    terminations.push(...result.terminations);
    retirements.push(...result.retirements);
    pools.push(result.report);
    if (Object.keys(result.timers).length > 0) timers[policy.pool] = result.timers;
  }
  // Launches go first: capacity is added before any is taken away.
  return {
    actions: [...launches, ...retirements, ...terminations],
    timers,
    established: establishedFacts(snapshot, rollouts, images),
    trials: trialFacts(rollouts),
    pools,
  };
}

/** The pool's busy workers by slot name, when its desired document lists them. */
function busyOf(snapshot: Snapshot, pool: string): ReadonlySet<string> | undefined {
  const busy = snapshot.demand?.[pool]?.busy;
  return busy === undefined ? undefined : new Set(busy);
}

/** The pool's plan with how its desired was worked out: in the report, and in its timers for the next cycle. */
function withDemand(planned: PoolPlan, wanted: PoolDesired): PoolPlan {
  if (wanted.memory === undefined) return planned;
  if (wanted.demand === undefined) return { ...planned, timers: { ...planned.timers, demand: wanted.memory } };
  const idle = Math.max(0, planned.report.running - wanted.demand.running);
  return {
    ...planned,
    report: { ...planned.report, demand: { ...wanted.demand, idle } },
    timers: { ...planned.timers, demand: wanted.memory },
  };
}

/** A pool whose source has never answered (and holds nothing) keeps the workers it has: no answer never scales down. */
function keepUnknown(policy: PoolPolicy, wanted: PoolDesired, live: number): PoolDesired {
  return wanted.unknown ? { desired: clampedCount(policy, live) } : wanted;
}
