import type { LaunchAction, TerminateAction } from '../domain/actions.js';
import { type PoolPolicy, resolveBudget } from '../domain/policy.js';
import type { PendingLaunch, PoolTimers } from '../domain/snapshot.js';
import type { Instance, Lifecycle } from '../domain/types.js';
import { holdsName, isLive } from '../domain/types.js';
import { allocateNames } from '../policy/names.js';
import { launchToken } from '../policy/pending-launches.js';
import { type Candidate, type PlacementInput, allocate, candidateOffers, spreadCap, spreadKey } from '../policy/placement.js';
import { chooseSurplus } from '../policy/scale-down.js';

export interface PoolContext extends PlacementInput {
  readonly fleet: string;
  /** already clamped to the policy's size */
  readonly desired: number;
  /** this pool's instances, every state */
  readonly instances: readonly Instance[];
  /** this pool's launches not yet visible */
  readonly pending: readonly PendingLaunch[];
  readonly timers: PoolTimers;
}

export interface PoolReport {
  readonly pool: string;
  readonly desired: number;
  /** running + pending instances + launches not yet visible */
  readonly live: number;
  readonly running: number;
  readonly pending: number;
  readonly spot: number;
  readonly onDemand: number;
  /** capacity still missing after this plan */
  readonly unmet: number;
  readonly notes: readonly string[];
}

export interface PoolPlan {
  readonly launches: LaunchAction[];
  readonly terminations: TerminateAction[];
  readonly report: PoolReport;
  /** the pool's timers for the next cycle */
  readonly timers: PoolTimers;
}

const isOnDemand = (x: { lifecycle: Lifecycle }) => x.lifecycle === 'on-demand';

export function planPool(ctx: PoolContext): PoolPlan {
  const { policy, desired, now } = ctx;
  const live = ctx.instances.filter(isLive);
  const liveCount = live.length + ctx.pending.length;
  const notes: string[] = [];
  const unitPrice = (i: Instance) => {
    const price = ctx.prices.price(policy, i.lifecycle, i.region, i.az, i.instanceType);
    const weight = policy.instanceTypes.find((t) => t.type === i.instanceType)?.weight ?? 1;
    return price === undefined ? undefined : price / weight;
  };

  // Surplus must last scaleDownAfter before anything is terminated: a queue that dips for a
  // minute does not cost a worker that would be launched again the next.
  const surplusSince = policy.scaleDown === 'terminate' && liveCount > desired ? (ctx.timers.surplusSince ?? now) : undefined;
  const scaleDownDue = surplusSince !== undefined && now - surplusSince >= policy.scaleDownAfter * 1000;
  if (surplusSince !== undefined && !scaleDownDue) {
    notes.push(`${liveCount - desired} above desired; scale-down in ${Math.ceil((surplusSince + policy.scaleDownAfter * 1000 - now) / 1000)}s`);
  }
  const surplus = scaleDownDue ? chooseSurplus(live, liveCount, desired, unitPrice) : [];
  const leaving = new Set(surplus.map((i) => i.id));
  const staying = live.filter((i) => !leaving.has(i.id));
  const remaining = liveCount - surplus.length;
  const onDemandRemaining = staying.filter(isOnDemand).length + ctx.pending.filter(isOnDemand).length;
  if (policy.scaleDown === 'none' && liveCount > desired) {
    notes.push(`${liveCount - desired} above desired; scaleDown is none, workers leave by themselves`);
  }

  const occupancy = new Map<string, number>();
  for (const x of [...staying, ...ctx.pending]) occupancy.set(spreadKey(x), (occupancy.get(spreadKey(x)) ?? 0) + 1);
  const cap = spreadCap(policy.spread, desired);
  const spot = candidateOffers(ctx, 'spot');

  const placements: { offer: Candidate; reason: string }[] = [];
  const shortfall = desired - remaining;
  const spotPlaced = shortfall > 0 ? allocate(spot.offers, shortfall, occupancy, cap) : [];
  placements.push(...spotPlaced.map((offer) => ({ offer, reason: `scale-up: want ${desired}, have ${remaining}` })));

  const unmet = Math.max(0, shortfall - spotPlaced.length);
  // The timer measures how long the pool itself has been short, not whether launches could be
  // planned: spot offers that keep failing come back after their capacity TTL and must not
  // reset it, or fallback would never come.
  const shortfallSince = shortfall > 0 ? (ctx.timers.shortfallSince ?? now) : undefined;
  let fallbackPlaced = 0;
  if (unmet > 0) {
    notes.push(...spot.skipped.map((s) => `skipped ${s}`));
    const waited = now - (shortfallSince ?? now);
    const due = policy.spot.fallbackAfter * 1000;
    if (waited < due) {
      notes.push(`spot short by ${unmet}; on-demand fallback in ${Math.ceil((due - waited) / 1000)}s`);
    } else {
      const room = Math.max(0, policy.onDemand.max - onDemandRemaining);
      const onDemand = candidateOffers(ctx, 'on-demand');
      const placed = allocate(onDemand.offers, Math.min(unmet, room), occupancy, cap);
      fallbackPlaced = placed.length;
      const reason = `fallback: spot short by ${unmet} for ${Math.round(waited / 1000)}s (fallbackAfter ${policy.spot.fallbackAfter}s)`;
      placements.push(...placed.map((offer) => ({ offer, reason })));
      if (placed.length < unmet) {
        notes.push(room < unmet ? `on-demand limit ${policy.onDemand.max} reached` : 'no on-demand offer available');
        notes.push(...onDemand.skipped.map((s) => `skipped ${s}`));
      }
    }
  } else if (shortfall <= 0 && policy.scaleDown === 'terminate' && onDemandRemaining > 0) {
    // Spot is back: bring spot in first; the on-demand instance leaves once its replacement runs.
    const inFlight = remaining - desired;
    const budget = resolveBudget(policy.onDemand.replaceBudget, desired);
    // Never above the pool's max, even for a moment.
    const wanted = Math.min(onDemandRemaining - inFlight, budget - inFlight, policy.size.max - remaining);
    if (wanted > 0) {
      const placed = allocate(spot.offers, wanted, occupancy, Number.POSITIVE_INFINITY);
      const reason = `replace on-demand: spot available again (${onDemandRemaining} on-demand running)`;
      placements.push(...placed.map((offer) => ({ offer, reason })));
    }
  }

  const taken = new Set([...ctx.instances.filter(holdsName).map((i) => i.name), ...ctx.pending.map((p) => p.name)]);
  const names = allocateNames(policy.names, taken, placements.length);
  const launches: LaunchAction[] = [
    ...ctx.pending.filter((p) => p.instanceId === undefined).map((p) => resumeLaunch(p)),
    ...placements.map(({ offer, reason }, n) => launchAction(ctx, offer, names[n] as string, reason)),
  ];
  const terminations = surplus.map((i) => terminateAction(i, unitPrice(i), desired, liveCount));

  const after = [...staying, ...ctx.pending];
  return {
    launches,
    terminations,
    report: {
      pool: policy.pool,
      desired,
      live: liveCount,
      running: live.filter((i) => i.state === 'running').length,
      pending: live.filter((i) => i.state === 'pending').length + ctx.pending.length,
      spot: after.filter((x) => !isOnDemand(x)).length,
      onDemand: after.filter(isOnDemand).length,
      unmet: unmet - fallbackPlaced,
      notes,
    },
    timers: {
      ...(shortfallSince !== undefined ? { shortfallSince } : {}),
      ...(surplusSince !== undefined && surplus.length < liveCount - desired ? { surplusSince } : {}),
    },
  };
}

function launchAction(ctx: PoolContext, offer: Candidate, name: string, reason: string): LaunchAction {
  const what = { pool: ctx.policy.pool, region: offer.region, subnetId: offer.subnetId, instanceType: offer.instanceType, lifecycle: offer.lifecycle, ami: offer.ami, name };
  return {
    kind: 'launch',
    ...what,
    az: offer.az,
    ...(offer.price !== undefined ? { price: offer.price } : {}),
    ...(offer.maxPrice !== undefined ? { maxPrice: offer.maxPrice } : {}),
    reason,
    clientToken: launchToken(ctx.fleet, what, ctx.now),
  };
}

function resumeLaunch(p: PendingLaunch): LaunchAction {
  return {
    kind: 'launch',
    pool: p.pool,
    region: p.region,
    az: p.az,
    subnetId: p.subnetId,
    instanceType: p.instanceType,
    lifecycle: p.lifecycle,
    ami: p.ami,
    name: p.name,
    ...(p.price !== undefined ? { price: p.price } : {}),
    ...(p.maxPrice !== undefined ? { maxPrice: p.maxPrice } : {}),
    reason: 'resume: earlier launch was never confirmed',
    clientToken: p.clientToken,
  };
}

function terminateAction(i: Instance, unitPrice: number | undefined, desired: number, live: number): TerminateAction {
  const why = i.lifecycle === 'on-demand' ? 'on-demand leaves first' : 'most expensive, then newest, leave first';
  return {
    kind: 'terminate',
    pool: i.pool,
    region: i.region,
    az: i.az,
    instanceType: i.instanceType,
    lifecycle: i.lifecycle,
    ami: i.ami,
    name: i.name,
    instanceId: i.id,
    ...(unitPrice !== undefined ? { price: unitPrice } : {}),
    reason: `scale-down: want ${desired}, have ${live}; ${why}`,
  };
}
