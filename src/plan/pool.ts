import type { LaunchAction, TerminateAction } from '../domain/actions.js';
import { resolveBudget } from '../domain/policy.js';
import type { PendingLaunch, PoolTimers } from '../domain/snapshot.js';
import type { Instance, Lifecycle } from '../domain/types.js';
import { holdsName, isLive } from '../domain/types.js';
import { retirementDueAt } from '../policy/freshness.js';
import { allocateNames } from '../policy/names.js';
import { type Candidate, type PlacementInput, allocate, candidateOffers, spreadCap, spreadKey } from '../policy/placement.js';
import { chooseSurplus } from '../policy/scale-down.js';
import { launchAction, resumeLaunch, terminateAction } from './action-builders.js';

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
  /** live instances on an outdated or drained AMI */
  readonly outdated: number;
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

type Worker = Instance | PendingLaunch;

const isOnDemand = (x: { lifecycle: Lifecycle }) => x.lifecycle === 'on-demand';
const isInstance = (x: Worker): x is Instance => 'id' in x;

/**
 * One pool's decisions, in order: instances on drained AMIs leave (within the drain budget);
 * replaced instances leave once their replacement runs; terminate-mode pools shed a lasting
 * surplus; a shortfall is launched on spot (on demand after fallbackAfter); and a whole pool
 * replaces outdated instances, and on-demand ones with spot, launch first and retire after.
 *
 * A replacement carries the id of the instance it replaces (tag fleet:replaces); until that
 * instance leaves, the pair counts as one worker.
 */
export function planPool(ctx: PoolContext): PoolPlan {
  const { policy, desired, now, images } = ctx;
  const live = ctx.instances.filter(isLive);
  const status = (i: Instance) => images.status(i.ami, i.pool, i.region);
  const notes: string[] = [];
  const unitPrice = (i: Instance) => {
    const price = ctx.prices.price(policy, i.lifecycle, i.region, i.az, i.instanceType);
    const weight = policy.instanceTypes.find((t) => t.type === i.instanceType)?.weight ?? 1;
    return price === undefined ? undefined : price / weight;
  };
  const terminations: TerminateAction[] = [];
  const leaving = new Set<string>();
  const leave = (i: Instance, reason: string) => {
    leaving.add(i.id);
    terminations.push(terminateAction(i, unitPrice(i), reason));
  };

  // 1. A drained AMI's instances go first, within the drain budget, whatever the capacity:
  //    the image is broken, and the shortfall they leave is launched from the current one.
  const drained = live.filter((i) => status(i) === 'drained').sort((a, b) => a.launchTime - b.launchTime || a.id.localeCompare(b.id));
  const drainBudget = resolveBudget(policy.freshness.drainBudget, live.length + ctx.pending.length);
  for (const i of drained.slice(0, drainBudget)) leave(i, `drained AMI ${i.ami}`);
  if (drained.length > drainBudget) notes.push(`${drained.length - drainBudget} more on drained AMIs wait for the drain budget (${drainBudget} a cycle)`);

  // 2. Replacement pairs: the replaced instance leaves once its replacement runs.
  const liveById = new Map(live.map((i) => [i.id, i]));
  const replacementOf = new Map<string, Worker>();
  for (const w of [...live, ...ctx.pending]) if (w.replaces && liveById.has(w.replaces)) replacementOf.set(w.replaces, w);
  for (const i of live) {
    const replacement = replacementOf.get(i.id);
    if (leaving.has(i.id) || !replacement || !isInstance(replacement) || replacement.state !== 'running') continue;
    leave(i, `replaced by ${replacement.id} (${replacement.name}), now running`);
  }
  const openPairs = [...replacementOf].filter(([target]) => !leaving.has(target));
  const pairedIds = new Set(openPairs.flatMap(([target, r]) => (isInstance(r) ? [target, r.id] : [target])));

  // Effective workers: what exists or is being launched, minus what leaves, each open pair once.
  const total = live.length + ctx.pending.length;
  let size = total - leaving.size - openPairs.length;

  // 3. Terminate-mode scale-down, once a surplus has lasted scaleDownAfter.
  const surplusSince = policy.scaleDown === 'terminate' && size > desired ? (ctx.timers.surplusSince ?? now) : undefined;
  const scaleDownDue = surplusSince !== undefined && now - surplusSince >= policy.scaleDownAfter * 1000;
  if (surplusSince !== undefined && !scaleDownDue) {
    notes.push(`${size - desired} above desired; scale-down in ${Math.ceil((surplusSince + policy.scaleDownAfter * 1000 - now) / 1000)}s`);
  }
  if (policy.scaleDown === 'none' && size > desired) notes.push(`${size - desired} above desired; scaleDown is none, workers leave by themselves`);
  let surplusLeft = 0;
  if (scaleDownDue) {
    const candidates = live.filter((i) => !leaving.has(i.id) && !pairedIds.has(i.id));
    const running = live.filter((i) => !leaving.has(i.id) && i.state === 'running').length;
    const chosen = chooseSurplus(candidates, size - desired, running - desired, unitPrice);
    const why = (i: Instance) => (i.lifecycle === 'on-demand' ? 'on-demand leaves first' : 'most expensive, then newest, leave first');
    for (const i of chosen) leave(i, `scale-down: want ${desired}, have ${size}; ${why(i)}`);
    surplusLeft = size - desired - chosen.length;
    size -= chosen.length;
  }

  const staying = [...live.filter((i) => !leaving.has(i.id)), ...ctx.pending];
  const occupancy = new Map<string, number>();
  for (const x of staying) occupancy.set(spreadKey(x), (occupancy.get(spreadKey(x)) ?? 0) + 1);
  const cap = spreadCap(policy.spread, desired);
  const spot = candidateOffers(ctx, 'spot');
  const placements: { offer: Candidate; reason: string; replaces?: string }[] = [];

  // 4. A shortfall goes to spot; what spot cannot place goes on demand once the pool has been
  //    short for fallbackAfter. The timer measures the pool, not the plan: offers that keep
  //    failing come back after their capacity TTL and must not reset it.
  const shortfall = desired - size;
  const shortfallSince = shortfall > 0 ? (ctx.timers.shortfallSince ?? now) : undefined;
  const spotPlaced = shortfall > 0 ? allocate(spot.offers, shortfall, occupancy, cap) : [];
  placements.push(...spotPlaced.map((offer) => ({ offer, reason: `scale-up: want ${desired}, have ${size}` })));
  const unmet = Math.max(0, shortfall - spotPlaced.length);
  let fallbackPlaced = 0;
  if (unmet > 0) {
    notes.push(...spot.skipped.map((s) => `skipped ${s}`));
    const waited = now - (shortfallSince ?? now);
    const due = policy.spot.fallbackAfter * 1000;
    if (waited < due) {
      notes.push(`spot short by ${unmet}; on-demand fallback in ${Math.ceil((due - waited) / 1000)}s`);
    } else {
      const room = Math.max(0, policy.onDemand.max - staying.filter(isOnDemand).length);
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
  }

  // 5. A whole pool replaces, launch first: outdated instances once due (retireBudget pairs at a
  //    time), then on-demand ones with spot (terminate pools, replaceBudget pairs at a time).
  //    Never above the pool's max, even for a moment.
  const outdated = live.filter((i) => !leaving.has(i.id) && status(i) === 'outdated');
  if (shortfall <= 0) {
    let room = policy.size.max - (total - leaving.size);
    const unpaired = live.filter((i) => !leaving.has(i.id) && !pairedIds.has(i.id));
    const dueTimes = new Map(outdated.map((i) => [i.id, retirementDueAt(i.id, images.currentImage(i.pool, i.region)?.created ?? now, policy.freshness.grace)]));
    const dueAt = (i: Instance) => dueTimes.get(i.id) ?? now;
    const due = unpaired.filter((i) => status(i) === 'outdated' && dueAt(i) <= now).sort((a, b) => dueAt(a) - dueAt(b));
    const waiting = outdated.filter((i) => !pairedIds.has(i.id) && dueAt(i) > now);
    if (waiting.length > 0) notes.push(`${waiting.length} on an outdated AMI; next retirement due ${new Date(Math.min(...waiting.map(dueAt))).toISOString()}`);
    const inFlight = (target: (i: Instance) => boolean) => openPairs.filter(([id]) => target(liveById.get(id) as Instance)).length;
    const replace = (targets: readonly Instance[], budget: number, reason: (i: Instance) => string) => {
      const wanted = Math.min(targets.length, budget, room);
      if (wanted <= 0) return;
      const placed = allocate(spot.offers, wanted, occupancy, Number.POSITIVE_INFINITY);
      placed.forEach((offer, n) => {
        const target = targets[n] as Instance;
        placements.push({ offer, reason: reason(target), replaces: target.id });
      });
      room -= placed.length;
      if (placed.length < wanted) notes.push('no spot offer for replacements; they wait');
    };
    const outdatedBudget = resolveBudget(policy.freshness.retireBudget, desired) - inFlight((i) => status(i) === 'outdated');
    replace(due, outdatedBudget, (i) => `replace ${i.id} (${i.name}): AMI ${i.ami} is outdated`);
    if (policy.scaleDown === 'terminate' && surplusLeft <= 0) {
      const onDemand = unpaired.filter((i) => isOnDemand(i) && status(i) !== 'outdated');
      const onDemandBudget = resolveBudget(policy.onDemand.replaceBudget, desired) - inFlight((i) => isOnDemand(i) && status(i) !== 'outdated');
      replace(onDemand, onDemandBudget, (i) => `replace on-demand ${i.id} (${i.name}) with spot: spot available again`);
    }
  }

  const taken = new Set([...ctx.instances.filter(holdsName).map((i) => i.name), ...ctx.pending.map((p) => p.name)]);
  const names = allocateNames(policy.names, taken, placements.length);
  const launches: LaunchAction[] = [
    ...ctx.pending.filter((p) => p.instanceId === undefined).map(resumeLaunch),
    ...placements.map(({ offer, reason, replaces }, n) => launchAction(ctx.fleet, policy.pool, now, offer, names[n] as string, reason, replaces)),
  ];

  return {
    launches,
    terminations,
    report: {
      pool: policy.pool,
      desired,
      live: total,
      running: live.filter((i) => i.state === 'running').length,
      pending: live.filter((i) => i.state === 'pending').length + ctx.pending.length,
      spot: staying.filter((x) => !isOnDemand(x)).length,
      onDemand: staying.filter(isOnDemand).length,
      outdated: live.filter((i) => status(i) === 'outdated' || status(i) === 'drained').length,
      unmet: unmet - fallbackPlaced,
      notes,
    },
    timers: {
      ...(shortfallSince !== undefined ? { shortfallSince } : {}),
      ...(surplusSince !== undefined && (!scaleDownDue || surplusLeft > 0) ? { surplusSince } : {}),
    },
  };
}
