import type { LaunchAction, RetireAction, TerminateAction } from '../domain/actions.js';
import { type Cause, type ReplacementBudget, type ReplacementCause, budgetOf, isReplacementCause } from '../domain/causes.js';
import type { Lookup } from '../domain/lookup.js';
import { resolveBudget } from '../domain/policy.js';
import type { PendingLaunch, PoolTimers, Snapshot } from '../domain/snapshot.js';
import type { Instance } from '../domain/types.js';
import { holdsName } from '../domain/types.js';
import { retirementDueAt } from '../policy/freshness.js';
import type { ImageIndex } from '../policy/images.js';
import { allocateNames } from '../policy/names.js';
import {
  type Candidate,
  type Candidates,
  type PlacementInput,
  allocate,
  candidateOffers,
  firstWithRoom,
  offerScore,
  spreadCap,
  spreadKey,
  withImage,
} from '../policy/placement.js';
import { spotPriceCap } from '../policy/prices.js';
import { type Rollout, imageStatus } from '../policy/rollout.js';
import { chooseSurplus, crowdingInstances } from '../policy/scale-down.js';
import { launchAction, resumeAction, retireAction, terminateAction } from './action-builders.js';
import { asksFirst, isBusy, idleFirst, mayMoveForMoney, retiringStep } from './busy.js';
import { lifetimeReplacements } from './lifetime.js';
import { type RegionRollout, regionRollout } from './rollouts.js';
import { type Member, type Placement, PoolLedger, isBackwards } from './ledger.js';
import { Memo, MemoByTwo } from './memo.js';
import type { DemandReport } from './demand.js';

export interface PoolContext extends PlacementInput {
  readonly fleet: string;
  /** already clamped to the policy's size */
  readonly desired: number;
  /** this pool's instances, every state */
  readonly instances: readonly Instance[];
  /** this pool's launches not yet visible */
  readonly pending: readonly PendingLaunch[];
  readonly timers: PoolTimers;
  readonly images: ImageIndex;
  /** the pool's rollout per managed region */
  readonly rollouts: ReadonlyMap<string, Rollout>;
  /** instances fleet terminated itself lately */
  readonly terminatedByFleet: ReadonlySet<string>;
  /** drained AMIs the launch guard drained */
  readonly guardDrained?: ReadonlySet<string>;
  /** what EC2's events said about instances (interruption warnings, rebalance recommendations) */
  readonly events?: Snapshot['events'];
  /** slot names of the workers the CI reports running a job; undefined: the document says nothing (every worker counts as idle) */
  readonly busy?: ReadonlySet<string>;
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
  readonly rollouts: readonly RegionRollout[];
  /** how desired was worked out, for a pool whose desired comes from queue facts */
  readonly demand?: DemandReport & { readonly idle: number };
}

export interface PoolPlan {
  readonly launches: LaunchAction[];
  readonly terminations: TerminateAction[];
  /** busy workers asked to leave (tagged `fleet:retire`) instead of terminated */
  readonly retirements: RetireAction[];
  readonly report: PoolReport;
  /** the pool's timers for the next cycle */
  readonly timers: PoolTimers;
}

/** What one step of planPool sees: the pool's facts, its ledger, and the notes it may add to. */
export interface Step {
  readonly ctx: PoolContext;
  readonly ledger: PoolLedger;
  readonly notes: string[];
  readonly unitPrice: Lookup<Instance, number | undefined>;
  /** what a spot member's offer is expected to cost per unit over the horizon (`offerScore`); asked of spot members only */
  readonly score: Lookup<Member, number | undefined>;
  /** the spot offers a launch may use now, cheapest first, with the region's launch image */
  readonly spot: Candidates;
  /** most members one offer (zone × type) may hold */
  readonly spreadCap: number;
}

/**
 * One pool's decisions, in steps over one ledger: instances on drained AMIs leave (within the drain
 * budget); replaced instances leave once their replacement has proved itself; terminate-mode pools
 * shed a lasting surplus; a shortfall is launched on spot (on demand after fallbackAfter); and a pool
 * that is whole replaces, launch first: canaries of a new image, outdated instances, on-demand ones.
 * Never above the pool's max, even for a moment: what is leaving still takes room until it is gone.
 */
export function planPool(ctx: PoolContext): PoolPlan {
  const { policy } = ctx;
  const spot = offers(ctx, 'spot');
  const status = new MemoByTwo(regionOf, amiOf, (m: Pick<Member, 'ami' | 'region'>) =>
    imageStatus(m.ami, policy.pool, m.region, ctx.rollouts.get(m.region), ctx.images),
  );
  const ledger = new PoolLedger(ctx.instances, ctx.pending, ctx.images.drained, status);
  const step: Step = {
    ctx,
    ledger,
    notes: [],
    unitPrice: new Memo(offerOf, (i: Instance) => {
      const price = ctx.prices.price(policy, i.lifecycle, i.region, i.az, i.instanceType);
      return price === undefined ? undefined : price / weightOf(policy, i.instanceType);
    }),
    // Spot members only: their zone × type (a zone names its region) is the offer, a key each already holds.
    score: new Memo(spreadOfMember, (m: Member) => {
      const onDemand = ctx.prices.onDemand(policy, m.region, m.instanceType);
      const cap = spotPriceCap(policy, onDemand) ?? onDemand;
      return offerScore(
        ctx,
        { region: m.region, az: m.az, instanceType: m.instanceType, weight: weightOf(policy, m.instanceType) },
        cap ?? undefined,
      );
    }),
    spot,
    spreadCap: spreadCap(policy.spread, ctx.desired, offersOpen(ctx, spot)),
  };
  warningStep(step);
  drainStep(step);
  retiringStep(step);
  pairStep(step);
  const scaleDown = scaleDownStep(step);
  const shortfall = shortfallStep(step);
  // Nothing is replaced while the pool is short (capacity first) or above desired (a replacement whose
  // old instance then leaves by itself would grow the pool; the surplus goes first).
  if (shortfall.shortfallSince === undefined && ledger.size() <= ctx.desired) replaceStep(step);
  return finish(step, shortfall, scaleDown);
}

// Functions the planner calls for every member are defined once, here, not made anew for each pool
// or step: V8 keeps the optimized code of a function that lives, and drops a closure's with it.

/** An offer (region, zone, type, lifecycle) as the key of the plan's memos of prices and scores. */
const offerOf = (m: Pick<Member, 'region' | 'az' | 'instanceType' | 'lifecycle'>) => `${m.region} ${m.az} ${m.instanceType} ${m.lifecycle}`;
const spreadOfMember = (m: Member) => m.spread;
const regionOf = (m: { region: string }) => m.region;
const amiOf = (m: { ami: string }) => m.ami;
const weightOf = (policy: PoolContext['policy'], type: string) => policy.instanceTypes.find((t) => t.type === type)?.weight ?? 1;
const isRunningWorker = (m: Member) => m.counts && m.instance?.state === 'running';
const isDrainedInstance = (m: Member) => m.instance !== undefined && m.status === 'drained';
const isCurrentSpot = (m: Member) => m.lifecycle === 'spot' && m.status === 'current';
const isCurrentOnDemand = (m: Member) => m.lifecycle === 'on-demand' && m.status === 'current';
/** A launch sent and not answered, which counts: the kind finish() re-sends. */
const isUnanswered = (m: Member) => m.pending?.resendable === true && m.pending.instanceId === undefined && m.counts;
const instanceOf = (m: Member) => m.instance as Instance;

/**
 * 0. A spot instance EC2 warned of an interruption is leaving (EC2 reclaims it two minutes after the
 *    warning): it no longer counts, so its replacement is launched now, and its offer is kept out.
 */
function warningStep({ ctx, ledger }: Step): void {
  const warned = ctx.events?.warned;
  // Most cycles hear of no warning: then there is nothing to look up for each member.
  if (warned === undefined || Object.keys(warned).length === 0) return;
  for (const m of ledger.staying()) {
    const fact = m.instance ? warned[m.instance.id] : undefined;
    if (fact) ledger.leave(m, 'warning', `spot interruption warning at ${new Date(fact.at).toISOString()}: EC2 reclaims it`, false);
  }
}

/** 1. A drained AMI's instances go first, within the drain budget, whatever the capacity: the image is broken. */
function drainStep({ ctx, ledger, notes }: Step): void {
  const drained = ledger.staying().filter(isDrainedInstance).sort(byLaunch);
  if (drained.length === 0) return;
  // The budget is how many may be on their way out at once; those still shutting down count.
  let inFlight = 0;
  for (const i of ctx.instances)
    if (i.state === 'shutting-down' && ctx.images.drained.has(i.ami) && ctx.terminatedByFleet.has(i.id)) inFlight++;
  const budget = Math.max(0, resolveBudget(ctx.policy.freshness.drainBudget, ledger.footprint()) - inFlight);
  for (const m of drained.slice(0, budget)) ledger.leave(m, ctx.guardDrained?.has(m.ami) ? 'guard' : 'drain', `drained AMI ${m.ami}`);
  if (drained.length > budget) notes.push(`${drained.length - budget} more on drained AMIs wait for the drain budget`);
}

/**
 * 2. Replacement pairs: the replaced instance leaves once its replacement has proved itself: running,
 *    and for a new image, running for `bake` seconds. A replacement that dies first frees its target.
 *    And only while running capacity stays at desired: a pool that is short keeps its old worker
 *    until the shortfall is running too. A pair the images changed under (its replacement now on an
 *    outdated image, its target on a current one) is cancelled instead: the replacement leaves.
 */
function pairStep(step: Step): void {
  const { ctx, ledger } = step;
  const bakeMs = ctx.policy.freshness.bake * 1000;
  let running = ledger.staying().filter(isRunningWorker).length;
  for (const [targetId, replacement] of ledger.openPairs()) {
    if (!('key' in replacement) || !replacement.instance) continue;
    const target = ledger.instance(targetId) as Member;
    if (isBackwards(target, replacement)) {
      // A replacement that is itself being replaced leaves through its own pair, once that one runs.
      if (ledger.openPairs().has(replacement.key)) continue;
      if (replacement.instance.state === 'running') {
        if (running - 1 < ctx.desired) continue;
        running--;
      }
      ledger.leave(
        replacement,
        'scale-down',
        `replacement of ${target.key} (${target.name}) cancelled: its AMI ${replacement.ami} is outdated, ${target.ami} is current`,
      );
      continue;
    }
    if (replacement.instance.state !== 'running') continue;
    const age = ctx.now - replacement.instance.launchTime;
    const gate = replacement.ami === target.ami ? 0 : bakeMs;
    if (age < gate) continue;
    const cause = replacementCause(ctx, target, replacement);
    const idle = isBusy(ctx, target) ? standIn(step, target, cause) : undefined;
    const leaving = idle ?? target;
    // A target on a drained image is no worker: retiring it takes no running capacity.
    if (leaving.counts && leaving.instance?.state === 'running') {
      if (running - 1 < ctx.desired) continue;
      running--;
    }
    const replaced = `replaced by ${replacement.key} (${replacement.name}), running ${Math.round(age / 1000)}s`;
    if (idle)
      ledger.standIn(idle, { replacement, busy: target }, cause, `${replaced}, in place of ${target.key} (${target.name}), which is busy`);
    else ledger.leave(target, cause, replaced);
  }
}

/**
 * An idle worker that can leave in a busy pair target's place, as well as it (SPEC §5: retirement,
 * on-demand swaps and moves take idle workers first): running, in no pair, and due for the same
 * reason: an outdated image in the same region, an on-demand instance there, or the same offer and
 * image for a move. Those of the target's offer first (the spread is left as the pair would leave
 * it), then the oldest; one of another offer only while the target's, where the busy worker stays,
 * has room under the spread cap. None for the causes that name the target itself (a warning, a
 * recommendation, its lifetime).
 */
function standIn(step: Step, target: Member, cause: ReplacementCause): Member | undefined {
  const { ctx, ledger } = step;
  const alike = STAND_INS[cause];
  if (alike === undefined) return undefined;
  // The target's place is free while it is paired; the busy worker takes it again.
  const roomWhereTargetIs = (ledger.occupancy().get(target.spread) ?? 0) + 1 <= step.spreadCap;
  let best: Member | undefined;
  for (const m of ledger.unpaired()) {
    if (m.instance?.state !== 'running' || m.instance.retireAt !== undefined || isBusy(ctx, m) || !alike(m, target)) continue;
    if (m.spread !== target.spread && !roomWhereTargetIs) continue;
    if (best === undefined || standInOrder(target, m, best) < 0) best = m;
  }
  return best;
}

const sameRegionOutdated = (m: Member, target: Member) =>
  m.region === target.region && m.status === 'outdated' && target.status === 'outdated';
const sameOffer = (m: Member, target: Member) => m.spread === target.spread && m.lifecycle === target.lifecycle && m.ami === target.ami;

/** Who may stand in for a busy target, by the pair's cause. */
const STAND_INS: Partial<Record<ReplacementCause, (m: Member, target: Member) => boolean>> = {
  outdated: sameRegionOutdated,
  canary: sameRegionOutdated,
  'on-demand-swap': (m, target) => m.region === target.region && m.lifecycle === 'on-demand' && m.status === target.status,
  rebalance: sameOffer,
  spread: sameOffer,
};

/** The target's offer first, then the oldest. */
function standInOrder(target: Member, a: Member, b: Member): number {
  const offer = Number(b.spread === target.spread) - Number(a.spread === target.spread);
  return offer || byLaunch(a, b);
}

/** 3. Terminate-mode scale-down, once a surplus has lasted scaleDownAfter. */
function scaleDownStep({ ctx, ledger, notes, unitPrice, spreadCap }: Step): { surplusSince?: number; surplusLeft: number; due: boolean } {
  const { policy, desired, now } = ctx;
  const size = ledger.size();
  if (size <= desired) return { surplusLeft: 0, due: false };
  if (policy.scaleDown === 'none') {
    notes.push(`${size - desired} above desired; scaleDown is none, workers leave by themselves`);
    return { surplusLeft: size - desired, due: false };
  }
  const surplusSince = ctx.timers.surplusSince ?? now;
  const dueAt = surplusSince + policy.scaleDownAfter * 1000;
  if (now < dueAt) {
    notes.push(`${size - desired} above desired; scale-down in ${Math.ceil((dueAt - now) / 1000)}s`);
    return { surplusSince, surplusLeft: size - desired, due: false };
  }
  const unpaired = ledger.unpaired();
  const candidates = unpaired.map(instanceOf);
  const running = ledger.staying().filter(isRunningWorker).length;
  // What has to go anyway goes first: an outdated image, then a crowded offer. Among outdated ones,
  // those crowding an offer (the outdated ones of a crowded offer first): the spread is not repaired
  // by moves of outdated workers, so a shrink that left one crowded would stay so until retirement.
  const outdated = new Map<Instance, number>();
  for (const m of unpaired) outdated.set(m.instance as Instance, m.status === 'outdated' ? 0 : 1);
  const crowding = crowdingInstances(candidates, ledger.occupancy(), spreadCap, spreadsOf(unpaired), unitPrice, outdated);
  const rank = new Map<Instance, number>();
  for (const m of unpaired) rank.set(m.instance as Instance, (m.status === 'outdated' ? 0 : 2) + (crowding.has(m.key) ? 0 : 1));
  // Idle workers leave before any the CI reports busy (a busy one is asked to leave, and finishes its job).
  const busy = new Set(unpaired.filter((m) => isBusy(ctx, m)).map(instanceOf));
  const chosen = chooseSurplus(candidates, size - desired, running - desired, unitPrice, rank, busy);
  const why = (i: Instance) =>
    busy.has(i)
      ? 'no idle worker left to go'
      : i.lifecycle === 'on-demand'
        ? 'on-demand leaves first'
        : rank.get(i) === 0
          ? `an outdated image leaves first, from ${i.az} ${i.instanceType}, which holds more than its share`
          : rank.get(i) === 1
            ? 'an outdated image leaves first'
            : rank.get(i) === 2
              ? `${i.az} ${i.instanceType} holds more than its share`
              : 'most expensive, then newest, leave first';
  for (const i of chosen)
    ledger.leave(ledger.instance(i.id) as Member, 'scale-down', `scale-down: want ${desired}, have ${size}; ${why(i)}`);
  const surplusLeft = size - desired - chosen.length;
  return { ...(surplusLeft > 0 ? { surplusSince } : {}), surplusLeft, due: true };
}

interface ShortfallResult {
  readonly shortfallSince?: number;
  /** workers still missing once this step placed what it could */
  readonly remaining: number;
}

/**
 * 4. A shortfall goes to spot; what spot cannot place goes on demand once the pool has been short for
 *    fallbackAfter. The timer measures the pool, not the plan: offers that keep failing come back
 *    after their capacity TTL and must not reset it.
 */
function shortfallStep(step: Step): ShortfallResult {
  const { ctx, ledger, notes } = step;
  const { policy, desired, now } = ctx;
  const size = ledger.size();
  const shortfall = desired - size;
  if (shortfall <= 0) return { remaining: shortfall };
  const shortfallSince = ctx.timers.shortfallSince ?? now;
  const room = policy.size.max - ledger.footprint();
  const wanted = Math.min(shortfall, Math.max(0, room));
  // At size.max, a replacement in flight holds room while the instance it replaces still serves: that
  // part of the shortfall is not unmet (the old one leaves only once capacity stays at desired).
  const servedByTargets = Math.min(
    shortfall - wanted,
    [...ledger.openPairs().keys()].filter((id) => ledger.instance(id)?.instance?.state === 'running').length,
  );
  if (wanted < shortfall) {
    notes.push(
      `at size.max ${policy.size.max}: ${shortfall - wanted} more wait for room (${servedByTargets} replaced instance(s) still serving, the rest leaving)`,
    );
  }
  const reason = `scale-up: want ${desired}, have ${size}`;
  let placed = canaryScaleUp(step, wanted, reason);
  const spot = step.spot;
  // Launches that stand in for instances EC2 warned it will interrupt are theirs; the rest scale up.
  let warned = 0;
  for (const { departure } of ledger.departures()) if (departure.cause === 'warning') warned++;
  const scaleUpCause = (): Cause => (warned-- > 0 ? 'warning' : 'scale-up');
  placed += place(step, spot.offers, wanted - placed, scaleUpCause, () => reason);
  let unmet = shortfall - placed;
  if (unmet > 0 && placed < wanted) {
    notes.push(...spot.skipped.map((s) => `skipped ${s}`));
    const waited = now - shortfallSince;
    const due = policy.spot.fallbackAfter * 1000;
    if (waited < due) {
      notes.push(`spot short by ${unmet}; on-demand fallback in ${Math.ceil((due - waited) / 1000)}s`);
    } else {
      const onDemandNow =
        ledger.staying().filter((m) => m.lifecycle === 'on-demand').length +
        ledger.placements().filter((p) => p.offer.lifecycle === 'on-demand').length;
      const onDemandRoom = Math.max(0, policy.onDemand.max - onDemandNow);
      const onDemand = offers(ctx, 'on-demand');
      const fallbackReason = `fallback: spot short by ${unmet} for ${Math.round(waited / 1000)}s (fallbackAfter ${policy.spot.fallbackAfter}s)`;
      const fallback = place(
        step,
        onDemand.offers,
        Math.min(unmet, onDemandRoom, wanted - placed),
        () => 'fallback',
        () => fallbackReason,
      );
      if (fallback < unmet) {
        notes.push(onDemandRoom < unmet ? `on-demand limit ${policy.onDemand.max} reached` : 'no on-demand offer available');
        notes.push(...onDemand.skipped.map((s) => `skipped ${s}`));
      }
      unmet -= fallback;
    }
  }
  return { shortfallSince, remaining: Math.max(0, unmet - servedByTargets) };
}

/**
 * In a region where a new image is on trial but has no instance to replace (the region is empty),
 * the first scale-up launches there are its canaries. Returns how many it placed.
 */
function canaryScaleUp(step: Step, wanted: number, reason: string): number {
  const { ctx, ledger } = step;
  let placed = 0;
  for (const rollout of ctx.rollouts.values()) {
    const candidate = rollout.candidate;
    if (!candidate || rollout.canaryRoom <= 0 || placed >= wanted) continue;
    if (ledger.members.some((m) => m.region === rollout.region && m.ami !== candidate.id)) continue;
    const here = withImage(step.spot.offers, rollout.region, candidate);
    placed += place(
      step,
      here,
      Math.min(rollout.canaryRoom, wanted - placed),
      () => 'canary',
      () => `${reason}; canary of ${candidate.id}`,
    );
  }
  return placed;
}

/**
 * 5. A whole pool replaces, launch first, never above its max, each kind within its budget of pairs
 *    in flight: instances EC2 recommends rebalancing, canaries of a new image (per region, up to the
 *    canary count), outdated instances once due, on-demand ones by spot, then moves within the spot
 *    market (crowded offers, then dear ones).
 */
function replaceStep(step: Step): void {
  const { ctx, ledger } = step;
  const { policy, desired } = ctx;
  // Pairs in flight as the step begins: each budget counts those of its causes, not the pairs this step opens.
  const inFlight = new Map<ReplacementBudget, number>();
  for (const [id, r] of ledger.openPairs()) {
    const budget = budgetOf(replacementCause(ctx, ledger.instance(id) as Member, r));
    inFlight.set(budget, (inFlight.get(budget) ?? 0) + 1);
  }
  // A worker asked to leave for a replacement's cause holds its budget until it is gone (its pair has
  // closed): one asked before and still waited for, and one asked in this very cycle.
  for (const { member, departure } of ledger.departures()) {
    const waitedFor = !departure.terminate && member.instance?.retireAt !== undefined;
    if (!isReplacementCause(departure.cause) || (!waitedFor && !asksFirst(ctx, member, departure))) continue;
    const budget = budgetOf(departure.cause);
    inFlight.set(budget, (inFlight.get(budget) ?? 0) + 1);
  }
  const moveBudget = resolveBudget(policy.rebalance.budget, desired) - (inFlight.get('move') ?? 0);
  const retireBudget = resolveBudget(policy.freshness.retireBudget, desired) - (inFlight.get('retire') ?? 0);
  const onDemandBudget = resolveBudget(policy.onDemand.replaceBudget, desired) - (inFlight.get('on-demand') ?? 0);

  let moves = moveBudget;
  moves -= recommendedMoves(step, moves);
  canaryReplacements(step);
  const outdated = outdatedReplacements(step, retireBudget);
  lifetimeReplacements(step, retireBudget - outdated);
  if (policy.scaleDown !== 'terminate') return;
  onDemandReplacements(step, onDemandBudget);
  moves -= spreadRepair(step, moves);
  priceMoves(step, moves);
}

/**
 * Why a replacement in flight was launched: its own cause, as its tags or the journal keep it. A
 * replacement launched before causes were recorded has none: then it is told from what it replaces.
 */
function replacementCause(ctx: PoolContext, target: Member, replacement: Member | Placement): ReplacementCause {
  if (isReplacementCause(replacement.cause)) return replacement.cause;
  const ami = 'key' in replacement ? replacement.ami : replacement.offer.ami;
  if (target.ami !== ami) return [...ctx.rollouts.values()].some((ro) => ro.candidate?.id === ami) ? 'canary' : 'outdated';
  return target.lifecycle === 'on-demand' ? 'on-demand-swap' : 'rebalance';
}

/** Each member's instance → its offer for the spread cap, as the member holds it: no key made again. */
function spreadsOf(members: readonly Member[]): Map<Instance, string> {
  const spreads = new Map<Instance, string>();
  for (const m of members) if (m.instance) spreads.set(m.instance, m.spread);
  return spreads;
}

const roomLeft = ({ ctx, ledger }: Step) => ctx.policy.size.max - ledger.footprint();
const byLaunch = (a: Member, b: Member) =>
  (a.instance as Instance).launchTime - (b.instance as Instance).launchTime || a.key.localeCompare(b.key);

/**
 * Rebalance recommendations: EC2 says the instance is at risk; a replacement goes first, into an
 * offer no such warning touches, and the instance leaves once it runs. None when no offer is safer.
 */
function recommendedMoves(step: Step, budget: number): number {
  const { ctx, ledger } = step;
  const recommended = ctx.events?.rebalance;
  // Most cycles hear of no recommendation: then there is nothing to look up for each member.
  if (recommended === undefined || budget <= 0 || Object.keys(recommended).length === 0) return 0;
  const atRisk: Member[] = [];
  for (const m of ledger.unpaired()) if (m.lifecycle === 'spot' && m.instance && recommended[m.instance.id] !== undefined) atRisk.push(m);
  if (atRisk.length === 0) return 0;
  atRisk.sort(byLaunch);
  const risky = new Set(
    Object.keys(recommended).flatMap((id) => {
      const at = ledger.instance(id);
      return at ? [spreadKey(at)] : [];
    }),
  );
  const safer = step.spot.offers.filter((o) => !risky.has(o.spread));
  return replace(
    step,
    atRisk,
    Math.min(budget, roomLeft(step)),
    safer,
    'recommendation',
    (m) => `rebalance recommendation for ${m.key} (${m.name}): moves out of ${m.az} ${m.instanceType} first`,
  );
}

/** Canaries: a new image first replaces a few instances per region, until it has proved itself. */
function canaryReplacements(step: Step): void {
  const { ctx, ledger } = step;
  for (const rollout of ctx.rollouts.values()) {
    const candidate = rollout.candidate;
    if (!candidate || rollout.canaryRoom <= 0) continue;
    const targets = ledger
      .unpaired()
      .filter((m) => m.region === rollout.region && m.ami !== candidate.id && m.status !== 'drained')
      .sort((a, b) => Number(b.status === 'outdated') - Number(a.status === 'outdated') || byLaunch(a, b));
    const canaryOffers = withImage(step.spot.offers, rollout.region, candidate);
    replace(
      step,
      idleFirst(ctx, targets),
      Math.min(rollout.canaryRoom, roomLeft(step)),
      canaryOffers,
      'canary',
      (m) => `canary of ${candidate.id}: replaces ${m.key} (${m.name})`,
    );
  }
}

/** Outdated instances, once due: the image they should run has been out for the grace period. */
function outdatedReplacements(step: Step, budget: number): number {
  const { ctx, ledger, notes } = step;
  const { policy, now } = ctx;
  // Retirement is due per region: from when the region's launch image came out.
  const dueAt = new Map<string, number>();
  for (const [region, rollout] of ctx.rollouts)
    dueAt.set(region, retirementDueAt(rollout.launchImage?.created ?? now, policy.freshness.grace));
  const due: Member[] = [];
  let waiting = 0;
  let firstDue = Number.POSITIVE_INFINITY;
  for (const m of ledger.unpaired()) {
    if (m.status !== 'outdated') continue;
    const at = dueAt.get(m.region) ?? retirementDueAt(now, policy.freshness.grace);
    if (at <= now) {
      due.push(m);
    } else {
      waiting++;
      firstDue = Math.min(firstDue, at);
    }
  }
  if (waiting > 0) notes.push(`${waiting} on an outdated AMI; retirement due ${new Date(firstDue).toISOString()}`);
  return replaceOldest(step, due, budget, 'outdated', (m) => `replace ${m.key} (${m.name}): AMI ${m.ami} is outdated`);
}

/**
 * Replace `targets` on the spot offers, idle ones first, each part oldest first, within `budget` and
 * the pool's room; returns how many.
 */
export function replaceOldest(
  step: Step,
  targets: Member[],
  budget: number,
  cause: ReplacementCause,
  reason: (m: Member) => string,
): number {
  if (targets.length === 0) return 0;
  targets.sort(byLaunch);
  return replace(step, idleFirst(step.ctx, targets), Math.min(budget, roomLeft(step)), step.spot.offers, cause, reason);
}

/** On-demand instances, by spot ones (pools that terminate). */
function onDemandReplacements(step: Step, budget: number): void {
  replaceOldest(
    step,
    step.ledger.unpaired().filter(isCurrentOnDemand),
    budget,
    'on-demand-swap',
    (m) => `replace on-demand ${m.key} (${m.name}) with spot: spot available again`,
  );
}

/**
 * Hours a move costs, in the new offer's price: both instances run while the replacement boots and
 * proves itself. Below `rebalance.horizon` times the saving, a move does not pay.
 */
const MOVE_COST_HOURS = 0.1;

/**
 * Rebalancing: a running spot instance whose offer is expected to cost clearly more over the horizon
 * than the best offer with room (by `minSaving`, the hysteresis that keeps flapping prices from
 * churning, and by more than the move costs) is replaced there, launch first, dearest first.
 */
function priceMoves(step: Step, budget: number): void {
  const { ctx, ledger, score } = step;
  const { policy } = ctx;
  const count = Math.min(budget, roomLeft(step));
  if (!policy.rebalance.enabled || count <= 0) return;
  const candidates = step.spot.offers;
  const held: Scored[] = [];
  for (const m of ledger.unpaired()) {
    if (m.lifecycle !== 'spot' || m.instance?.state !== 'running' || m.status !== 'current' || !mayMoveForMoney(ctx, m)) continue;
    const s = score.get(m);
    if (s !== undefined) held.push({ m, s });
  }
  held.sort(dearestFirst);
  let moved = 0;
  // Asked again only after a move: m's own offer is never where it moves, so what m frees does not matter until then.
  let occupancy = ledger.occupancy();
  // Offer (zone × type) → its mean price over the horizon, asked once per plan.
  const means = new Map<string, number | undefined>();
  for (const { m, s } of held) {
    if (moved >= count) break;
    const best = firstWithRoom(candidates, occupancy, step.spreadCap, m.spread);
    if (best?.score === undefined || !movePays(s, best.score, policy.rebalance) || !savingLasted(ctx, means, m, s, best)) continue;
    ledger.add({
      offer: best,
      cause: 'rebalance',
      reason: `rebalance ${m.key} (${m.name}): ${m.az} ${m.instanceType} expected at $${s.toFixed(4)}/h, ${best.az} ${best.instanceType} at $${best.score.toFixed(4)}/h`,
      replaces: m.key,
    });
    // m now counts where its replacement is placed.
    occupancy = ledger.occupancy();
    moved++;
  }
}

/**
 * Whether the saving a move is paid back by also held over the last horizon, on the offers' mean
 * prices (each with its interruption penalty): a gap that opened minutes ago, in a market whose
 * offers keep crossing, is gone long before the horizon a move is judged over has passed.
 */
function savingLasted(ctx: PoolContext, means: Map<string, number | undefined>, m: Member, score: number, best: Candidate): boolean {
  const { policy, prices, now } = ctx;
  const meanScore = (o: Pick<Member, 'region' | 'az' | 'instanceType' | 'spread'>, score: number) => {
    let average = means.get(o.spread);
    if (!means.has(o.spread)) {
      const cap = spotPriceCap(policy, prices.onDemand(policy, o.region, o.instanceType)) ?? Number.POSITIVE_INFINITY;
      average = prices.spotMean(o.region, o.az, o.instanceType, policy.productDescription, now - policy.rebalance.horizon * 1000, now, cap);
      means.set(o.spread, average);
    }
    const price = prices.spot(o.region, o.az, o.instanceType, policy.productDescription);
    return average === undefined || price === undefined || price <= 0 ? score : (average / price) * score;
  };
  return movePays(meanScore(m, score), meanScore(best, best.score ?? 0), policy.rebalance);
}

/** A member with its offer's score. */
interface Scored {
  readonly m: Member;
  readonly s: number;
}

const dearestFirst = (a: Scored, b: Scored) => b.s - a.s || a.m.key.localeCompare(b.m.key);

/**
 * The offers (zone × type) the spread cap's even share is over. A spread the offers open now cannot
 * honour would leave the pool short: each may then hold an even share. An automatic spread counts
 * only spot offers priced close to the best. With no spot offer open (all refused, or no max price
 * while the on-demand price is unknown), what launches is the on-demand fallback: its offers count,
 * or the cap would grow to the whole pool and crowd one offer.
 */
function offersOpen(ctx: PoolContext, spot: Candidates): number {
  const { policy } = ctx;
  const open = policy.spread.auto ? closeOffers(spot.offers, policy.rebalance) : new Set(spot.offers.map((o) => o.spread)).size;
  return open > 0 ? open : new Set(offers(ctx, 'on-demand').offers.map((o) => o.spread)).size;
}

/** How many offers (zone × type) are priced so close to the best that no move out of them would pay. */
function closeOffers(offers: readonly Candidate[], rebalance: { minSaving: number; horizon: number }): number {
  const best = offers[0]?.score;
  if (best === undefined) return new Set(offers.map((o) => o.spread)).size;
  return new Set(offers.filter((o) => o.score !== undefined && !movePays(o.score, best, rebalance)).map((o) => o.spread)).size;
}

/** Whether moving from an offer expected at `held` to one at `best` (per unit and hour) pays: it saves `minSaving` of what is paid now. */
function movePays(held: number, best: number, rebalance: { minSaving: number; horizon: number }): boolean {
  const saving = held - best;
  return saving >= rebalance.minSaving * held && saving * (rebalance.horizon / 3600) > best * MOVE_COST_HOURS;
}

/**
 * A pool that shrank can be left crowded in one offer (the spread cap is a share of the desired
 * size): the workers past the cap move to other offers, launch first.
 */
function spreadRepair(step: Step, budget: number): number {
  const { ledger, unitPrice, spreadCap: cap } = step;
  const count = Math.min(budget, roomLeft(step));
  if (count <= 0) return 0;
  const spot = ledger.unpaired().filter((m) => isCurrentSpot(m) && mayMoveForMoney(step.ctx, m));
  const crowding = crowdingInstances(spot.map(instanceOf), ledger.occupancy(), cap, spreadsOf(spot), unitPrice);
  const targets: Member[] = [];
  for (const m of spot) if (crowding.has(m.key)) targets.push(m);
  return replace(
    step,
    targets,
    count,
    step.spot.offers,
    'spread',
    (m) => `spread: ${m.key} (${m.name}) moves out of ${m.az} ${m.instanceType}, which holds more than ${cap} of the pool`,
  );
}

/** Pair up to `count` targets with replacements placed on `candidates`, within the spread cap; returns how many. */
export function replace(
  step: Step,
  targets: readonly Member[],
  count: number,
  candidates: readonly Candidate[],
  cause: ReplacementCause,
  reason: (m: Member) => string,
): number {
  const wanted = Math.min(targets.length, count);
  if (wanted <= 0) return 0;
  const occupancy = step.ledger.occupancy();
  const cap = step.spreadCap;
  let placed = 0;
  for (const target of targets.slice(0, wanted)) {
    // The target's own place is free once its replacement runs: a pair counts once.
    occupancy.set(target.spread, Math.max(0, (occupancy.get(target.spread) ?? 0) - 1));
    const [offer] = allocate(candidates, 1, occupancy, cap);
    if (!offer) {
      occupancy.set(target.spread, (occupancy.get(target.spread) ?? 0) + 1);
      break;
    }
    step.ledger.add({ offer, cause, reason: reason(target), replaces: target.key });
    placed++;
  }
  if (placed < wanted) step.notes.push('no spot offer for replacements; they wait');
  return placed;
}

function offers(ctx: PoolContext, lifecycle: 'spot' | 'on-demand'): Candidates {
  return candidateOffers(ctx, lifecycle, (region) => ctx.rollouts.get(region)?.launchImage);
}

/** Place `count` launches on the cheapest offers within the spread cap; returns how many it placed. */
function place(step: Step, candidates: readonly Candidate[], count: number, cause: () => Cause, reason: () => string): number {
  if (count <= 0) return 0;
  const placed = allocate(candidates, count, step.ledger.occupancy(), step.spreadCap);
  for (const offer of placed) step.ledger.add({ offer, cause: cause(), reason: reason() });
  return placed.length;
}

function finish(step: Step, shortfall: ShortfallResult, scaleDown: { surplusSince?: number; surplusLeft: number; due: boolean }): PoolPlan {
  const { ctx, ledger, notes, unitPrice } = step;
  const { policy } = ctx;
  const terminations: TerminateAction[] = [];
  const retirements: RetireAction[] = [];
  for (const { member, departure } of ledger.departures()) {
    if (!departure.terminate || !member.instance) continue;
    const price = unitPrice.get(member.instance);
    if (asksFirst(ctx, member, departure)) {
      const deadline = ctx.now + policy.stopTimeoutSeconds * 1000;
      retirements.push(
        retireAction(
          member.instance,
          price,
          departure.cause,
          `${departure.reason}; busy: asked to leave by ${new Date(deadline).toISOString()}`,
          deadline,
        ),
      );
    } else {
      const ended = terminateAction(member.instance, price, departure.cause, departure.reason, departure.retireEnd);
      const pair = departure.standsInFor;
      terminations.push(
        pair
          ? {
              ...ended,
              standsInFor: {
                replacement: pair.replacement.key,
                replacementName: pair.replacement.name,
                cause: departure.cause,
                busy: pair.busy.key,
              },
            }
          : ended,
      );
    }
  }
  const placements = ledger.placements();
  const names = allocateNames(policy.names, takenNames(ctx), placements.length);
  // Unanswered launches are re-sent exactly as first sent, unless their image was drained meanwhile,
  // or the pool is above desired (desired dropped since): a resend would make what is no longer
  // wanted. Held, they still count (a send may have landed) until they are seen or given up.
  const unanswered = ledger.members.filter(isUnanswered);
  const hold = unanswered.length > 0 && ledger.size() > ctx.desired;
  if (hold) notes.push(`${unanswered.length} unanswered launch slot(s) not re-sent: the pool is above desired`);
  const launches: LaunchAction[] = hold ? [] : unanswered.map((m) => resumeAction(m.pending as PendingLaunch));
  for (let n = 0; n < placements.length; n++) {
    const { offer, cause, reason, replaces } = placements[n] as (typeof placements)[number];
    launches.push(launchAction(policy.pool, offer, names[n] as string, cause, reason, replaces));
  }
  const timers: { shortfallSince?: number; surplusSince?: number } = {};
  if (shortfall.shortfallSince !== undefined) timers.shortfallSince = shortfall.shortfallSince;
  if (scaleDown.surplusSince !== undefined) timers.surplusSince = scaleDown.surplusSince;
  const { live, running, pending, spot, onDemand, outdated } = counts(step);
  return {
    launches,
    terminations,
    retirements,
    report: {
      pool: policy.pool,
      desired: ctx.desired,
      live,
      running,
      pending,
      spot,
      onDemand,
      outdated,
      unmet: Math.max(0, shortfall.remaining),
      notes,
      rollouts: [...ctx.rollouts.values()].map(regionRollout),
    },
    timers,
  };
}

/** Every name the pool's instances and launches hold: a launch takes none of them. */
function takenNames(ctx: PoolContext): string[] {
  const taken: string[] = [];
  for (const i of ctx.instances) if (holdsName(i)) taken.push(i.name);
  for (const p of ctx.pending) taken.push(p.name);
  return taken;
}

/** The report's counts of the pool's members, in one pass: live ones by state, staying ones by lifecycle. */
function counts({ ledger }: Step): Pick<PoolReport, 'live' | 'running' | 'pending' | 'spot' | 'onDemand' | 'outdated'> {
  let running = 0;
  let pending = 0;
  let spot = 0;
  let onDemand = 0;
  let outdated = 0;
  for (const m of ledger.members) {
    const state = m.instance?.state;
    if (state === 'running') running++;
    if (state === undefined || state === 'pending') pending++;
    if (m.instance && (m.status === 'outdated' || m.status === 'drained')) outdated++;
    if (ledger.isLeaving(m)) continue;
    if (m.lifecycle === 'spot') spot++;
    else if (m.lifecycle === 'on-demand') onDemand++;
  }
  return { live: ledger.members.length, running, pending, spot, onDemand, outdated };
}
