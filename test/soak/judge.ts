// The soak's judge: after every cycle it reads the simulated cloud's own state (the world's
// instances and events, the EC2 call log, S3 documents as stored) and runs every invariant checker
// on it. It never asks fleet what it believes.

import { slotFromTags } from '../../src/cloud/tags.js';
import { REPLACEMENT_CAUSES, type ReplacementBudget, budgetOf } from '../../src/domain/causes.js';
import type { PoolPolicy } from '../../src/domain/policy.js';
import type { Image } from '../../src/domain/types.js';
import { spotPriceCap } from '../../src/policy/prices.js';
import { rolloutKey } from '../../src/policy/rollout.js';
import { simOnDemandPrice } from '../../src/fake-cloud/catalog.js';
import type { SimCloud } from '../../src/fake-cloud/cloud.js';
import type { SimCall } from '../../src/fake-cloud/ec2.js';
import type { SimInstance } from '../../src/fake-cloud/world.js';
import type { FaultWindows } from './chaos.js';
import type { SoakInputs } from './inputs.js';
import { type ImageView, checkBackwardsPairs, imageStanding } from './invariants/backwards-pair.js';
import { checkBadManifestRetirements } from './invariants/bad-manifest.js';
import {
  type RetireBudgetUse,
  type WorkerEnd,
  checkBusyTerminations,
  checkRetireBudget,
  heldForBudget,
  reportedBusy,
} from './invariants/busy-workers.js';
import { type CycleEnd, checkCycleErrors } from './invariants/cycle-errors.js';
import { checkDrainedLaunches, drainedAt } from './invariants/drained-launch.js';
import { checkEventQueue } from './invariants/event-queue.js';
import { checkGrowth, decidedThisCycle, pairBudgets } from './invariants/growth.js';
import { checkJournal } from './invariants/journal.js';
import { checkUniqueNames } from './invariants/names.js';
import { checkOwnership } from './invariants/ownership.js';
import { type NewLaunch, checkPhantomShortfall } from './invariants/phantom-shortfall.js';
import { type LiveChange, checkPoolMax } from './invariants/pool-max.js';
import { checkResends } from './invariants/resend.js';
import { checkRunningCapacity } from './invariants/running-capacity.js';
import { checkSpread, quietCycle, spotUnpriced } from './invariants/spread.js';
import { type Asked, type Finding, type InstanceFact, clampedDesired, livePool } from './invariants/types.js';
import type { Ledger, ManifestVersion } from './ledger.js';
import type { Delivery, SentCall } from './process.js';
import { MANIFEST_KEY, SOAK_BUCKET, SOAK_FLEET, STATE_PREFIX } from './scenario.js';

/** Cycles with no launch and live == desired before a pool counts as settled (spread). */
export const SETTLE_CYCLES = 5;
const ENDED_BY_OTHERS = new Set(['interrupted', 'self-shutdown', 'boot-failure']);
/** World events that take an instance out of pending or running (a later 'gone' does not: it was no longer live). */
const ENDS_LIVE = new Set(['terminated', ...ENDED_BY_OTHERS]);
/** How long a message may stay on the event queue (the wait between cycles polls it within seconds). */
export const EVENT_QUEUE_MAX_AGE_MS = 5 * 60_000;
/** State documents whose faults keep the queue from being handled: the facts, and the lease that lets a replica poll. */
const QUEUE_KEYS = [`${STATE_PREFIX}events.json`, `${STATE_PREFIX}lease.json`];
const LAST_GOOD_KEYS = [`${STATE_PREFIX}last-good-desired.json`, `${STATE_PREFIX}last-good-manifest.json`];

export function instanceFact(i: SimInstance): InstanceFact {
  const tag = (k: string) => i.tags[k];
  const slot = slotFromTags(i.tags, i.launchIndex);
  return {
    id: i.id,
    region: i.region,
    az: i.az,
    instanceType: i.instanceType,
    ami: i.ami,
    state: i.state,
    ...(tag('fleet:managed-by') !== undefined ? { managedBy: tag('fleet:managed-by') } : {}),
    ...(tag('fleet:pool') !== undefined ? { pool: tag('fleet:pool') } : {}),
    // The name and target a worker reads at boot: Name, or its entry in a batch's tags by launch index.
    ...(slot.name !== '' ? { name: slot.name } : {}),
    ...(slot.replaces !== undefined ? { replaces: slot.replaces } : {}),
    ...(slot.cause !== undefined ? { cause: slot.cause } : {}),
    ...retireOf(i.tags),
  };
}

/** The request to leave a worker carries, if any: a deadline that is no date is none. */
function retireOf(tags: Readonly<Record<string, string | undefined>>): Pick<InstanceFact, 'retireAt' | 'retireCause'> {
  const at = Date.parse(tags['fleet:retire'] ?? '');
  if (!Number.isFinite(at)) return {};
  const cause = tags['fleet:retire-cause'];
  return { retireAt: at, ...(cause !== undefined ? { retireCause: cause } : {}) };
}

/** The newest non-drained image per "pool region": what a manifest calls current. */
export function currentImages(images: readonly Image[], drained: ReadonlySet<string>): Record<string, string> {
  const best = new Map<string, Image>();
  for (const image of images) {
    if (drained.has(image.id)) continue;
    const key = `${image.pool} ${image.region}`;
    const was = best.get(key);
    if (!was || image.created > was.created || (image.created === was.created && image.id > was.id)) best.set(key, image);
  }
  return Object.fromEntries([...best].map(([key, image]) => [key, image.id]));
}

interface Frame {
  readonly t0: number;
  readonly before: readonly InstanceFact[];
  readonly liveBefore: Record<string, number>;
  readonly events: number;
  readonly calls: number;
  readonly processes: readonly string[];
  readonly lastGood: readonly (string | undefined)[];
  readonly manifestBad: boolean;
  /** instances fleet could list as the cycle began (the rest it knows only from its journal, if at all) */
  readonly listed: ReadonlySet<string>;
  /** rolloutKey()s the journal remembered as proved when the cycle began */
  readonly established: ReadonlySet<string>;
  /** slot names of the launches in fleet's journal when the cycle began: decided in an earlier cycle */
  readonly journaled: ReadonlySet<string>;
  /** workers fleet had asked to leave (tag fleet:retire) when the cycle began: no longer counted, their end decided */
  readonly askedBefore: ReadonlySet<string>;
}

interface CycleFacts {
  readonly t1: number;
  readonly after: readonly InstanceFact[];
  readonly calls: readonly SimCall[];
  readonly events: SimCloud['world']['events'];
  /** the valid manifests fleet could have been using */
  readonly manifests: readonly ManifestVersion[];
  readonly asked: Readonly<Record<string, Asked>>;
  readonly drained: ReadonlySet<string>;
  readonly terminatedByFleet: ReadonlySet<string>;
  readonly endedByOthers: ReadonlySet<string>;
  readonly runCalls: readonly SimCall[];
  /** launch slots whose token was first sent this cycle, per pool */
  readonly newLaunches: Readonly<Record<string, readonly NewLaunch[]>>;
  /** images drained at any time during the cycle */
  readonly drainedAny: ReadonlySet<string>;
  /** rolloutKey()s the journal remembered as proved all through the cycle */
  readonly established: ReadonlySet<string>;
  /** workers fleet asked to leave during the cycle */
  readonly askedNow: ReadonlySet<string>;
  /** workers asked to leave by the end of the cycle (before it or during it) */
  readonly asking: ReadonlySet<string>;
  /** per pool, the slot names every desired copy fleet could have read this cycle reported busy */
  readonly busy: Readonly<Record<string, ReadonlySet<string>>>;
  /** per pool, the slot names some copy reported busy: fleet may have held back from moving them */
  readonly maybeBusy: Readonly<Record<string, ReadonlySet<string>>>;
  /** fleet's successful TerminateInstances, one per instance */
  readonly ends: readonly WorkerEnd[];
}

/** What the run tells the judge about a cycle besides the cloud's own state. */
export interface CycleReport {
  readonly cycle: number;
  readonly ends: readonly CycleEnd[];
  readonly sent: readonly SentCall[];
  readonly deliveries: readonly Delivery[];
  /** processes alive during the cycle */
  readonly processes: readonly string[];
  /** a leader stalled past its lease during the cycle (a takeover) */
  readonly takeover?: boolean;
  /** workers of queue-form pools the CI ran a job on as the cycle began (its truth, not what it published) */
  readonly running?: ReadonlySet<string>;
}

export class Judge {
  /** how workers fleet asked to leave ended at its hands, and busy ones on drained images */
  readonly retireEnds: Record<string, number> = {};
  private frame: Frame | undefined;
  private readonly quiet = new Map<string, { cycles: number; desired: number }>();
  /** instances EC2 has warned it will reclaim, from the world's own events */
  private readonly warned = new Set<string>();
  /** when takeovers were under way, as [from, to] */
  private readonly takeovers: [number, number][] = [];
  /** when the Price List API last failed to answer */
  private listPriceFailedAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly cloud: SimCloud,
    private readonly policies: () => readonly PoolPolicy[],
    private readonly ledger: Ledger,
    private readonly inputs: SoakInputs,
    private readonly windows: FaultWindows,
    private readonly visibilityTimeoutMs: number,
  ) {}

  private facts(): InstanceFact[] {
    return [...this.cloud.world.instances.values()].map(instanceFact);
  }

  private liveCounts(facts: readonly InstanceFact[]): Record<string, number> {
    return Object.fromEntries(this.policies().map((p) => [p.pool, livePool(facts, SOAK_FLEET, p.pool).length]));
  }

  /** Look at the cloud as the cycle begins. */
  begin(processes: readonly string[]): void {
    const before = this.facts();
    const t0 = this.cloud.clock.now();
    this.frame = {
      t0: this.cloud.clock.now(),
      before,
      liveBefore: this.liveCounts(before),
      events: this.cloud.world.events.length,
      calls: this.cloud.calls.length,
      processes,
      lastGood: LAST_GOOD_KEYS.map((k) => this.cloud.objects.peek(SOAK_BUCKET, k)?.body),
      manifestBad: this.inputs.manifestBad,
      listed: new Set([...this.cloud.world.instances.values()].filter((i) => i.visibleAt <= t0).map((i) => i.id)),
      established: this.establishedKeys(),
      journaled: new Set(this.journal().flatMap((l) => l.name.split(','))),
      askedBefore: new Set(before.filter((i) => i.retireAt !== undefined).map((i) => i.id)),
    };
  }

  /** The rollout proofs reconciler.json remembers, as stored. */
  private establishedKeys(): Set<string> {
    const body = this.cloud.objects.peek(SOAK_BUCKET, `${STATE_PREFIX}reconciler.json`)?.body;
    if (body === undefined) return new Set();
    try {
      return new Set(Object.keys((JSON.parse(body) as { established?: Record<string, number> }).established ?? {}));
    } catch {
      return new Set();
    }
  }

  /** Judge the cycle that just ended. */
  end(report: CycleReport): Finding[] {
    const frame = this.frame as Frame;
    const facts = this.cycleFacts(frame, report);
    if (report.takeover) this.takeovers.push([frame.t0, facts.t1]);
    this.ledger.sentBy(report.sent);
    this.ledger.answered(facts.calls);
    for (const c of facts.calls)
      if (c.action === 'GetProducts' && c.result !== 'ok') this.listPriceFailedAt = Math.max(this.listPriceFailedAt, c.t);
    const findings = [...this.fleetWide(frame, facts, report), ...this.policies().flatMap((p) => this.perPool(p, frame, facts, report))];
    this.ledger.rememberParams(facts.runCalls);
    this.ledger.handedOut(report.deliveries);
    return findings;
  }

  /** What the cloud says about the cycle, and which desired counts and manifests fleet could have used. */
  private cycleFacts(frame: Frame, report: CycleReport): CycleFacts {
    const t1 = this.cloud.clock.now();
    const after = this.facts();
    const calls = this.cloud.calls.slice(frame.calls);
    const events = this.cloud.world.events.slice(frame.events);
    for (const e of events) if (e.kind === 'interruption-warning') this.warned.add(e.instance.id);
    const lastGood = [...frame.lastGood, ...LAST_GOOD_KEYS.map((k) => this.cloud.objects.peek(SOAK_BUCKET, k)?.body)];
    const copies = this.ledger.copies(frame.processes, report.deliveries, lastGood);
    const asked: Record<string, Asked> = {};
    for (const p of this.policies()) {
      const sizes = copies.desired.map((counts) => clampedDesired(p, counts));
      asked[p.pool] = sizes.length === 0 ? { low: 0, high: 0 } : { low: Math.min(...sizes), high: Math.max(...sizes) };
    }
    const runCalls = calls.filter((c) => c.action === 'RunInstances' && typeof c.detail?.clientToken === 'string');
    const drained = drainedAt(this.ledger.drained, t1);
    const atStart = this.establishedKeys();
    const byId = new Map([...frame.before, ...after].map((i) => [i.id, i]));
    const askedNow = new Set(
      calls
        .filter((c) => c.action === 'CreateTags' && c.result === 'ok' && c.detail?.retire !== undefined)
        .flatMap((c) => (c.detail?.instanceIds as string[] | undefined) ?? []),
    );
    return {
      t1,
      after,
      calls,
      events,
      manifests: copies.manifests,
      asked,
      drained,
      terminatedByFleet: new Set(
        calls.filter((c) => c.action === 'TerminateInstances').flatMap((c) => (c.detail?.instanceIds as string[] | undefined) ?? []),
      ),
      endedByOthers: new Set(events.filter((e) => ENDED_BY_OTHERS.has(e.kind)).map((e) => e.instance.id)),
      runCalls,
      newLaunches: this.newLaunches(runCalls),
      drainedAny: new Set([...drainedAt(this.ledger.drained, frame.t0), ...drained]),
      established: new Set([...frame.established].filter((k) => atStart.has(k))),
      askedNow,
      asking: new Set([...frame.askedBefore, ...askedNow, ...after.filter((i) => i.retireAt !== undefined).map((i) => i.id)]),
      busy: Object.fromEntries(this.policies().map((p) => [p.pool, reportedBusy(copies.busy, p.pool).surely])),
      maybeBusy: Object.fromEntries(this.policies().map((p) => [p.pool, reportedBusy(copies.busy, p.pool).maybe])),
      ends: calls
        .filter((c) => c.action === 'TerminateInstances' && c.result === 'ok')
        .flatMap((c) =>
          ((c.detail?.instanceIds as string[] | undefined) ?? []).flatMap((id) => {
            const i = byId.get(id);
            if (i === undefined) return [];
            return [{ t: c.t, id, name: i.name ?? '', ami: i.ami, ...(i.retireAt !== undefined ? { retireAt: i.retireAt } : {}) }];
          }),
        ),
    };
  }

  /** Count how fleet ended the workers it had asked to leave, and busy ones on drained images. */
  private countEnds(facts: CycleFacts, busy: ReadonlySet<string>, running: ReadonlySet<string>): void {
    const add = (what: string) => {
      this.retireEnds[what] = (this.retireEnds[what] ?? 0) + 1;
    };
    for (const e of facts.ends) {
      const deadline = e.retireAt !== undefined && e.t >= e.retireAt;
      if (e.retireAt !== undefined)
        add(deadline ? 'asked workers terminated at their deadline' : 'asked workers terminated once no longer busy');
      if (busy.has(e.name) && facts.drainedAny.has(e.ami)) add('busy workers terminated on a drained image');
      // Why fleet ended a worker that was running a job: every such end should have one of these reasons.
      if (!running.has(e.id)) continue;
      if (deadline) add('queue-form jobs cut: deadline');
      else if (facts.drainedAny.has(e.ami)) add('queue-form jobs cut: drained image');
      else if (!busy.has(e.name)) add('queue-form jobs cut: not in the list read');
      else add('queue-form jobs cut: reported busy');
    }
  }

  private fleetWide(frame: Frame, facts: CycleFacts, report: CycleReport): Finding[] {
    const policies = this.policies();
    const byId = new Map([...frame.before, ...facts.after].map((i) => [i.id, i]));
    const detail = (c: SimCall, key: string) => String(c.detail?.[key]);
    const busy = new Set(Object.values(facts.busy).flatMap((names) => [...names]));
    this.countEnds(facts, busy, report.running ?? new Set());
    return [
      ...checkBusyTerminations(
        facts.ends,
        () => busy,
        () => facts.drainedAny,
      ),
      ...checkPoolMax({
        max: Object.fromEntries(policies.map((p) => [p.pool, p.size.max])),
        liveBefore: frame.liveBefore,
        changes: liveChanges(facts.events),
      }),
      ...checkUniqueNames(facts.after, SOAK_FLEET),
      ...checkDrainedLaunches(
        facts.runCalls.map((c) => ({
          sentAt: Number(c.detail?.sentAt),
          ami: detail(c, 'ami'),
          clientToken: detail(c, 'clientToken'),
          name: detail(c, 'name'),
          result: c.result,
        })),
        this.ledger.drained,
      ),
      ...checkOwnership(touchingCalls(facts.calls), (id) => this.ownerOf(id), SOAK_FLEET),
      ...checkBadManifestRetirements({
        manifestBad:
          frame.manifestBad || this.inputs.manifestBad || this.windows.objectFaultOn(SOAK_BUCKET, MANIFEST_KEY, frame.t0, facts.t1 + 1),
        lastGoodCurrent: facts.manifests.map((m) => currentImages(m.images, facts.drained)),
        // A worker asked to leave earlier left by that decision; one asked now is retired now.
        terminated: [...new Set([...facts.terminatedByFleet, ...facts.askedNow])].flatMap((id) => {
          const i = frame.askedBefore.has(id) ? undefined : byId.get(id);
          return i?.pool !== undefined
            ? [{ id, pool: i.pool, region: i.region, ami: i.ami, liveBefore: liveJustBefore(i.pool, id, frame.liveBefore, facts.events) }]
            : [];
        }),
        desiredLow: Object.fromEntries(Object.entries(facts.asked).map(([pool, a]) => [pool, a.low])),
      }),
      ...checkJournal({
        pending: this.journal(),
        tokens: this.ledger.tokens,
        cycles: this.ledger.cycles,
        visibilityTimeoutMs: this.visibilityTimeoutMs,
      }),
      ...checkCycleErrors(report.ends),
      ...checkEventQueue({
        now: facts.t1,
        queued: this.cloud.eventQueue.queued(),
        maxAgeMs: EVENT_QUEUE_MAX_AGE_MS,
        hinderedUntil: (from, to) => this.queueHinderedUntil(from, to),
      }),
      ...checkResends(
        facts.runCalls.map((c) => ({ clientToken: detail(c, 'clientToken'), params: detail(c, 'params'), name: detail(c, 'name') })),
        this.ledger.firstParams,
      ),
    ];
  }

  private perPool(p: PoolPolicy, frame: Frame, facts: CycleFacts, report: CycleReport): Finding[] {
    const pool = p.pool;
    const asked = facts.asked[pool] as Asked;
    const liveAfter = livePool(facts.after, SOAK_FLEET, pool);
    const own = (i: InstanceFact) => i.managedBy === SOAK_FLEET && i.pool === pool;
    // Workers asked to leave no longer count toward the pool (SPEC §5 Work on the workers), and the
    // end of one asked before the cycle was decided then.
    const staying = liveAfter.filter((i) => !facts.asking.has(i.id));
    const notAskedBefore = (i: InstanceFact) => !frame.askedBefore.has(i.id);
    const desired = clampedDesired(p, this.inputs.desired);
    const quiet = quietCycle({
      live: staying.length,
      desired,
      acted: report.ends.some((e) => !e.error && !e.killed && !e.stopped),
      launched: facts.runCalls.some((c) => c.detail?.pool === pool),
      journaled: this.journal().some((l) => l.pool === pool),
      unpriced: spotUnpriced(p, this.listPriceFailedAt, facts.t1),
    });
    const settled = this.settle(pool, desired, quiet);
    return [
      ...checkGrowth({
        pool,
        liveBefore: livePool(frame.before, SOAK_FLEET, pool).filter(
          (i) => !facts.drained.has(i.ami) && !this.warned.has(i.id) && notAskedBefore(i),
        ).length,
        liveAfter,
        asked,
        budgets: pairBudgets(p, asked.high),
        opened: decidedThisCycle(facts.newLaunches[pool] ?? [], frame.journaled),
        drained: facts.drained,
        // Warned and asked to leave alike: on their way out, they never count.
        warned: new Set([...this.warned, ...facts.asking]),
        terminated: facts.terminatedByFleet,
        // A termination that failed (throttled, say, itself or at its ownership check) leaves its pair
        // open though fleet decided it closed.
        cutShort:
          report.takeover === true ||
          report.ends.some((e) => e.killed || e.error !== undefined) ||
          facts.calls.some(
            (c) => c.result !== 'ok' && (c.action === 'TerminateInstances' || c.detail?.ownershipCheckFor === 'TerminateInstances'),
          ),
      }),
      ...checkRunningCapacity({
        pool,
        before: frame.before.filter((i) => own(i) && notAskedBefore(i)),
        after: facts.after.filter((i) => own(i) && notAskedBefore(i)),
        drained: facts.drained,
        terminatedByFleet: facts.terminatedByFleet,
        endedByOthers: facts.endedByOthers,
        desiredLow: asked.low,
      }),
      ...checkSpread({
        pool,
        spread: p.spread,
        scaleDown: p.scaleDown,
        desired,
        live: staying,
        settled,
        offers: this.openOffers(p),
        max: p.size.max,
        occupying: liveAfter.length,
        ...(facts.maybeBusy[pool] ? { busy: facts.maybeBusy[pool] } : {}),
        movesAsked: heldForBudget(liveAfter, causesOf('move'), facts.drainedAny, this.warned).asked,
        moveBudget: pairBudgets(p, asked.low).move,
      }),
      // A stalled leader's held launch was planned cycles ago: takeovers have invariants of their own.
      ...(report.takeover
        ? []
        : checkPhantomShortfall({
            pool,
            before: livePool(frame.before, SOAK_FLEET, pool).filter((i) => frame.listed.has(i.id)),
            drained: facts.drainedAny,
            // What ended during the cycle (fleet's own terminations too: a scale-down, then a warning, is a launch) counts no more.
            leaving: new Set([...this.warned, ...facts.endedByOthers, ...facts.terminatedByFleet, ...facts.asking]),
            desiredHigh: asked.high,
            launches: facts.newLaunches[pool] ?? [],
          })),
      ...checkBackwardsPairs({
        pool,
        // A worker asked to leave is retired when asked.
        retired: frame.before.filter(
          (i) =>
            own(i) &&
            ((facts.terminatedByFleet.has(i.id) && notAskedBefore(i)) || facts.askedNow.has(i.id)) &&
            (i.state === 'pending' || i.state === 'running'),
        ),
        // A replacement asked to leave is not staying on.
        liveAfter: liveAfter.filter((i) => !facts.terminatedByFleet.has(i.id) && !facts.asking.has(i.id)),
        standing: this.standing(p, facts),
      }),
      ...checkRetireBudget(this.retireBudgetUses(p, frame, facts, asked.high)),
    ];
  }

  /** How much of each replacement budget the pool's workers asked to leave and open pairs hold, before and after the cycle. */
  private retireBudgetUses(p: PoolPolicy, frame: Frame, facts: CycleFacts, desired: number): RetireBudgetUse[] {
    const budgets = [
      { budgetName: 'freshness.retireBudget', budget: p.freshness.retireBudget, causes: causesOf('retire') },
      { budgetName: 'onDemand.replaceBudget', budget: p.onDemand.replaceBudget, causes: causesOf('on-demand') },
      { budgetName: 'rebalance.budget', budget: p.rebalance.budget, causes: causesOf('move') },
    ];
    const held = (instances: readonly InstanceFact[], causes: readonly string[]) =>
      heldForBudget(livePool(instances, SOAK_FLEET, p.pool), causes, facts.drainedAny, this.warned);
    const after = new Map(facts.after.map((i) => [i.id, i]));
    return budgets.map(({ budgetName, budget, causes }) => {
      const now = held(facts.after, causes);
      const before = held(frame.before, causes);
      return {
        pool: p.pool,
        budgetName,
        budget,
        desired,
        ...now,
        heldBefore: before.asked + before.pairs,
        askedNow: [...facts.askedNow].some((id) => after.get(id)?.pool === p.pool && causes.includes(after.get(id)?.retireCause ?? '')),
      };
    });
  }

  /** Launch slots whose token no earlier cycle sent (re-sends and retries of one token count once, and only when first sent). */
  private newLaunches(runCalls: readonly SimCall[]): Record<string, NewLaunch[]> {
    const out: Record<string, NewLaunch[]> = {};
    const seen = new Set<string>();
    for (const c of runCalls) {
      const token = String(c.detail?.clientToken);
      if (seen.has(token) || this.ledger.firstParams.has(token)) continue;
      seen.add(token);
      const names = (c.detail?.names as string[] | undefined) ?? [];
      const replaces = (c.detail?.replaces as (string | null)[] | undefined) ?? [];
      const pool = String(c.detail?.pool);
      out[pool] ??= [];
      names.forEach((name, n) => out[pool]?.push({ name, ...(typeof replaces[n] === 'string' ? { replaces: replaces[n] } : {}) }));
    }
    return out;
  }

  /** How the pool's images surely stood this cycle, in every region: over every manifest copy and drained set fleet could have used. */
  private standing(p: PoolPolicy, facts: CycleFacts): { current: Set<string>; outdated: Set<string> } {
    const current = new Set<string>();
    const outdated = new Set<string>();
    const drainedSets = [drainedAt(this.ledger.drained, this.frame?.t0 ?? facts.t1), facts.drained];
    for (const region of Object.keys(p.regions)) {
      const lists = facts.manifests.map((m) =>
        m.images
          .filter((i) => i.pool === p.pool && i.region === region)
          .sort((a, b) => b.created - a.created || b.id.localeCompare(a.id))
          .map((i) => i.id),
      );
      // A copy that lists nothing here leaves every image's standing unknown: nothing is sure.
      if (lists.length === 0 || lists.some((l) => l.length === 0)) continue;
      const views: ImageView[] = lists.flatMap((newestFirst) => {
        const remembered = new Set(newestFirst.filter((ami) => facts.established.has(rolloutKey(p.pool, region, ami))));
        return drainedSets.map((drained) => ({ newestFirst, drained, remembered }));
      });
      const s = imageStanding(views);
      for (const ami of s.current) current.add(ami);
      for (const ami of s.outdated) outdated.add(ami);
    }
    return { current, outdated };
  }

  /** How many of the pool's offers (zone × type) the cloud would take a spot launch in now. */
  private openOffers(p: PoolPolicy): number {
    const { world } = this.cloud;
    const t = this.cloud.clock.now();
    const open = new Set<string>();
    for (const [region, placement] of Object.entries(p.regions)) {
      for (const subnetId of placement.subnets) {
        const az = world.subnets.get(subnetId)?.az;
        if (!az || p.ignoredAzs.includes(az)) continue;
        for (const { type } of p.instanceTypes) {
          const price = world.market.spotPrice(region, az, type, p.productDescription, t);
          const cap = spotPriceCap(p, simOnDemandPrice(region, type, p.productDescription));
          if (price === undefined || (typeof cap === 'number' && price > cap) || world.market.capacity(az, type, 'spot', t) <= 0) continue;
          open.add(`${az}/${type}`);
        }
      }
    }
    return open.size;
  }

  /** Count quiet cycles (`quietCycle`) at an unchanged desired count; settled after SETTLE_CYCLES. */
  private settle(pool: string, desired: number, quiet: boolean): boolean {
    const was = this.quiet.get(pool);
    const cycles = quiet && was?.desired === desired ? was.cycles + 1 : quiet ? 1 : 0;
    this.quiet.set(pool, { cycles, desired });
    return cycles >= SETTLE_CYCLES;
  }

  /** When the last S3 fault on the queue's state documents, or takeover, between two times ends or ended. */
  private queueHinderedUntil(from: number, to: number): number | undefined {
    const ends = [
      ...QUEUE_KEYS.flatMap((key) => this.windows.objectFaultEnd(SOAK_BUCKET, key, from, to) ?? []),
      ...this.takeovers.filter(([a, b]) => a <= to && b >= from).map(([, b]) => b),
    ];
    return ends.length === 0 ? undefined : Math.max(...ends);
  }

  /** The pending launches in reconciler.json as stored. */
  private journal(): { clientToken: string; name: string; pool: string; requestedAt: number }[] {
    const body = this.cloud.objects.peek(SOAK_BUCKET, `${STATE_PREFIX}reconciler.json`)?.body;
    if (body === undefined) return [];
    const doc = JSON.parse(body) as {
      launches?: { request: { clientToken: string; pool: string; slots: { name: string }[] }; requestedAt: number }[];
    };
    return (doc.launches ?? []).map((l) => ({
      clientToken: l.request.clientToken,
      pool: l.request.pool,
      name: l.request.slots.map((s) => s.name).join(','),
      requestedAt: l.requestedAt,
    }));
  }

  private ownerOf(id: string): string | undefined {
    const world = this.cloud.world;
    const tags =
      world.instances.get(id)?.tags ??
      world.archive.find((i) => i.id === id)?.tags ??
      world.images.get(id)?.tags ??
      world.snapshots.get(id)?.tags;
    return tags?.['fleet:managed-by'];
  }
}

/**
 * A pool's live count just before fleet's termination of `id` took it out, from the count when the
 * cycle began and the world's events in the order they happened; the count when the cycle began if
 * the termination ended nothing live.
 */
export function liveJustBefore(
  pool: string,
  id: string,
  liveAtStart: Readonly<Record<string, number>>,
  events: SimCloud['world']['events'],
): number {
  let live = liveAtStart[pool] ?? 0;
  for (const e of events) {
    if (e.instance.tags['fleet:managed-by'] !== SOAK_FLEET || e.instance.tags['fleet:pool'] !== pool) continue;
    if (e.kind === 'terminated' && e.instance.id === id) return live;
    if (e.kind === 'launch') live++;
    else if (ENDS_LIVE.has(e.kind)) live--;
  }
  return liveAtStart[pool] ?? 0;
}

/** Changes of fleet's live count per pool during the cycle, from the world's own events. */
export function liveChanges(events: SimCloud['world']['events']): LiveChange[] {
  return events.flatMap((e): LiveChange[] => {
    const pool = e.instance.tags['fleet:pool'];
    if (e.instance.tags['fleet:managed-by'] !== SOAK_FLEET || pool === undefined) return [];
    if (e.kind === 'launch') return [{ t: e.t, pool, delta: 1 }];
    return ENDS_LIVE.has(e.kind) ? [{ t: e.t, pool, delta: -1 }] : [];
  });
}

/** Calls that change named resources, and the resources they name. */
function touchingCalls(calls: readonly SimCall[]): { action: string; resources: string[] }[] {
  return calls.flatMap((c) => {
    const d = c.detail ?? {};
    const ids = [
      ...((d.instanceIds as string[] | undefined) ?? []),
      ...((d.resources as string[] | undefined) ?? []),
      ...(typeof d.imageId === 'string' && c.action === 'DeregisterImage' ? [d.imageId] : []),
      ...(typeof d.snapshotId === 'string' ? [d.snapshotId] : []),
    ];
    return ids.length > 0 ? [{ action: c.action, resources: ids }] : [];
  });
}

/** The causes whose pairs and requests to leave a budget holds, as fleet counts them. */
function causesOf(budget: ReplacementBudget): string[] {
  return REPLACEMENT_CAUSES.filter((c) => budgetOf(c) === budget);
}
