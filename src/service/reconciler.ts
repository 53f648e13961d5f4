import type { Logger } from 'pino';
import { type CloudError, classify } from '../cloud/errors.js';
import type { Fence } from '../cloud/fence.js';
import type { GuardedCloud } from '../cloud/guarded-cloud.js';
import type { Clock } from '../domain/clock.js';
import { type LaunchAction, type RetireAction, type TerminateAction, attemptKey } from '../domain/actions.js';
import type { LaunchOutcome, Outcome } from '../domain/outcome.js';
import type { PoolPolicy } from '../domain/policy.js';
import type { Snapshot } from '../domain/snapshot.js';
import { applyOutcome } from '../plan/apply-outcome.js';
import { applyGuard } from '../plan/guard.js';
import { type Plan, plan } from '../plan/plan.js';
import type { GuardTrip } from '../policy/freshness.js';
import type { CapacityMemory } from './capacity-memory.js';
import { recordDrains } from './drains.js';
import { actionFields, execute, unsendableOutcomes } from './execute.js';
import { ImagesPublisher } from './images-doc.js';
import type { Journal } from './journal.js';
import { launchCalls } from './launch-calls.js';
import { NAMES_PER_CYCLE, setNames, unnamedInstances } from './naming.js';
import type { Observation, Observer } from './observe.js';
import type { StateStore } from '../shared/state-store.js';

/** The leader lease as the reconciler sees it: the fence of its writes, renewed while a cycle runs. */
export interface LeaseKeeper extends Fence {
  renew(): Promise<boolean>;
}

export interface ReconcilerDeps {
  readonly fleet: string;
  readonly policies: readonly PoolPolicy[];
  readonly cloud: GuardedCloud;
  readonly state: StateStore;
  readonly clock: Clock;
  readonly log: Logger;
  readonly observer: Observer;
  readonly capacity: CapacityMemory;
  /** seconds an unconfirmed launch may stay invisible */
  readonly visibilityTimeoutMs: number;
  /** The leader lease; without one (a single process, tests) this reconciler always acts. */
  readonly lease?: LeaseKeeper;
}

export interface CycleResult {
  /** absent when the cycle failed before it could observe */
  readonly observation?: Observation;
  /** the cycle's first plan: what an operator previews */
  readonly plan?: Plan;
  readonly outcomes: readonly Outcome[];
  readonly dryRun: boolean;
  /** why the cycle stopped early: it changed nothing more after this (the next cycle starts afresh) */
  readonly error?: CloudError;
  /** this replica does not hold the leader lease: it changed nothing */
  readonly standby?: boolean;
  /** images the launch guard drained this cycle (recorded in the state store) */
  readonly guardDrains?: readonly GuardTrip[];
}

/**
 * Offers that fail for capacity are replaced within the same cycle, up to this many rounds; each
 * round probes the next offers with one call each (see execute), so a cycle's refused calls stay
 * bounded by the number of offers tried.
 */
const MAX_ROUNDS = 25;

/** One reconcile cycle: observe → plan → execute, re-planning within the cycle when capacity fails. */
export class Reconciler {
  private readonly policiesByPool: ReadonlyMap<string, PoolPolicy>;
  private readonly images: ImagesPublisher;

  constructor(private readonly deps: ReconcilerDeps) {
    this.policiesByPool = new Map(deps.policies.map((p) => [p.pool, p]));
    this.images = new ImagesPublisher(deps.state, deps.log);
  }

  /** One observation and its plan; images the launch guard condemns count as drained. */
  async planOnly(): Promise<{ observation: Observation; plan: Plan; trips: GuardTrip[] }> {
    const observed = await this.deps.observer.observe();
    const { snapshot, trips } = applyGuard(observed.snapshot, this.deps.policies);
    const observation = { ...observed, snapshot };
    return { observation, plan: plan(snapshot, this.deps.policies, this.deps.fleet), trips };
  }

  /**
   * One cycle. It never throws: a fault (a cloud or state store that cannot be reached, a lost lease)
   * ends the cycle where it happened, with what was done so far and the error; the journal written
   * before every call makes the next cycle pick up exactly there.
   */
  async cycle({ dryRun }: { dryRun: boolean }): Promise<CycleResult> {
    const outcomes: Outcome[] = [];
    let observation: Observation | undefined;
    let first: Plan | undefined;
    let guardDrains: readonly GuardTrip[] = [];
    try {
      const planned = await this.planOnly();
      observation = planned.observation;
      first = planned.plan;
      this.report(first, planned.trips, dryRun);
      this.debugCycle(observation, first);
      if (dryRun) {
        for (const action of first.actions) this.deps.log.info({ ...actionFields(action), dryRun: true }, `would ${action.kind}`);
        return { observation, plan: first, outcomes, dryRun };
      }
      if (!this.holds()) {
        this.deps.log.warn('not the leader: this cycle changes nothing');
        return { observation, plan: first, outcomes, dryRun, standby: true };
      }
      if (planned.trips.length > 0) {
        await recordDrains(
          this.deps.state,
          planned.trips.map((t) => ({ ami: t.ami, reason: t.reason, by: 'guard' as const })),
          observation.snapshot.now,
        );
        guardDrains = planned.trips;
      }
      await this.act(observation, first, outcomes);
      await this.nameUnnamed(observation, outcomes);
      return { observation, plan: first, outcomes, dryRun, guardDrains };
    } catch (e) {
      const error = classify(e);
      this.deps.log.error({ code: error.code, class: error.errorClass, error: error.message }, 'cycle stopped');
      return { ...(observation ? { observation } : {}), ...(first ? { plan: first } : {}), outcomes, dryRun, error, guardDrains };
    }
  }

  /**
   * Instances listed without `Name` (their batch's naming failed, or the mutate bucket was empty)
   * get it now, a few per region, never waiting for the bucket. Those this cycle terminated are skipped.
   */
  private async nameUnnamed(observation: Observation, outcomes: readonly Outcome[]): Promise<void> {
    if (!this.holds()) return;
    const ended = new Set(outcomes.flatMap((o) => o.terminations.filter((t) => t.terminated).map((t) => t.action.instanceId)));
    const wanted = unnamedInstances(observation.snapshot.instances, ended);
    if (wanted.length > 0) await setNames(wanted, this.deps.cloud, this.deps.log, NAMES_PER_CYCLE);
  }

  /** Whether each region's launch bucket holds, right now, every one of these slots. */
  private launchBucketHolds(slots: readonly LaunchAction[]): boolean {
    const wanted = new Map<string, number>();
    for (const s of slots) wanted.set(s.region, (wanted.get(s.region) ?? 0) + 1);
    return [...wanted].every(([region, n]) => this.deps.cloud.compute(region).launchCapacityNow() >= n);
  }

  private holds(): boolean {
    return this.deps.lease?.holds() ?? true;
  }

  /** With --debug: what the cycle saw per pool and what it decided, with reasons (never user data). */
  private debugCycle(observation: Observation, first: Plan): void {
    const { log } = this.deps;
    if (!log.isLevelEnabled('debug')) return;
    const { snapshot } = observation;
    for (const pool of first.pools) {
      const demand = snapshot.demand?.[pool.pool];
      const facts = demand
        ? {
            pendingJobs: demand.pending,
            runningJobs: demand.running,
            oldestPendingSeconds: demand.oldestPendingSeconds,
            busy: demand.busy?.length,
          }
        : {};
      log.debug(
        {
          pool: pool.pool,
          asked: snapshot.desired?.[pool.pool],
          desired: pool.desired,
          live: pool.live,
          running: pool.running,
          pending: pool.pending,
          spot: pool.spot,
          onDemand: pool.onDemand,
          outdated: pool.outdated,
          ...facts,
        },
        'pool counts',
      );
    }
    log.debug(
      {
        inputs: observation.inputs,
        ...(observation.inputProblems ? { problems: observation.inputProblems } : {}),
        instances: snapshot.instances.length,
        pendingLaunches: snapshot.pendingLaunches.length,
      },
      'cycle inputs',
    );
    for (const action of first.actions) log.debug({ ...actionFields(action) }, `decided: ${action.kind}`);
    if (first.actions.length === 0) log.debug({ blocked: first.blocked }, 'decided: no action');
  }

  private report(first: Plan, trips: readonly GuardTrip[], dryRun: boolean): void {
    const { log } = this.deps;
    if (first.blocked) log.error({ reason: first.blocked }, 'cycle blocked');
    for (const trip of trips)
      log.error(
        { pool: trip.pool, region: trip.region, ami: trip.ami, reason: trip.reason, instances: trip.instances },
        dryRun ? 'guard would drain the AMI' : 'guard drains the AMI',
      );
    for (const pool of first.pools) {
      // A pool left short is the operator's business (why it is short is in the notes).
      if (pool.unmet > 0)
        log.warn({ pool: pool.pool, desired: pool.desired, live: pool.live, unmet: pool.unmet, notes: pool.notes }, 'pool short');
      else if (pool.notes.length > 0) log.debug({ pool: pool.pool, notes: pool.notes }, 'pool notes');
    }
  }

  /**
   * Rounds of (journal → send → fold the answers in), re-planning after capacity refusals. Every
   * round's plan is a whole plan of the state as it now stands (budgets count what is in flight), so a
   * later round never repeats what an earlier one did.
   */
  private async act(observation: Observation, first: Plan, outcomes: Outcome[]): Promise<void> {
    const { deps } = this;
    const journal: Journal = observation.journal;
    let snapshot: Snapshot = observation.snapshot;
    let current = first;
    const attempted = new Set<string>();
    const terminating = new Set<string>();
    for (let round = 1; round <= MAX_ROUNDS; round++) {
      const launches = current.actions.filter((a): a is LaunchAction => a.kind === 'launch' && !attempted.has(attemptKey(a)));
      const terminations = current.actions.filter((a): a is TerminateAction => a.kind === 'terminate' && !terminating.has(a.instanceId));
      const retirements = current.actions.filter((a): a is RetireAction => a.kind === 'retire' && !terminating.has(a.instanceId));
      if (launches.length === 0 && terminations.length === 0 && retirements.length === 0) break;
      if (round > 1 && deps.lease && !(await deps.lease.renew())) {
        deps.log.warn('leader lease lost: stopping before any further change');
        break;
      }
      for (const l of launches) attempted.add(attemptKey(l));
      for (const t of [...terminations, ...retirements]) terminating.add(t.instanceId);
      const now = deps.clock.now();
      const { calls, unsendable, deferred, userDataChanged } = launchCalls(launches, {
        fleet: deps.fleet,
        policies: this.policiesByPool,
        journaled: (token) => journal.resendable(token),
        now: snapshot.now,
        launchCapacity: (region) => deps.cloud.compute(region).launchCapacityNow(),
      });
      if (!this.holds()) {
        deps.log.warn('leader lease lost: stopping before any further change');
        break;
      }
      journal.freeze(userDataChanged);
      // Written down before they are made: a crash after the call must neither lead to a second
      // launch nor make fleet's own terminations look like failures to the guard.
      await journal.recordSending(
        calls.map((c) => c.request),
        terminations.map((t) => t.instanceId),
        now,
      );
      const { outcome, answers } = await execute(calls, terminations, { cloud: deps.cloud, fleet: deps.fleet, log: deps.log }, retirements);
      journal.recordAnswers(answers);
      const notSent: LaunchOutcome[] = [
        ...unsendableOutcomes(unsendable, deps.log),
        ...deferred.map((action) => ({
          action,
          failure: {
            kind: 'retryable' as const,
            code: 'Deferred',
            message: 'the launch bucket is empty: next cycle',
            unsent: true as const,
          },
        })),
      ];
      const round_: Outcome = {
        launches: [...outcome.launches, ...notSent],
        terminations: outcome.terminations,
        ...(outcome.retirements ? { retirements: outcome.retirements } : {}),
      };
      outcomes.push(round_);
      const after = deps.clock.now();
      // Only a refused single launch (or a partial fill) shows an offer is out of capacity; a refused
      // batch means it holds fewer, and the next round probes it again from one.
      for (const l of outcome.launches) {
        if (l.failure?.kind !== 'capacity') continue;
        if (!l.failure.unsent && (l.failure.batch ?? 1) <= 1) deps.capacity.markUnavailable(l.action, after);
        // A slot of a refused batch, or one never sent, may be tried again (a smaller batch may fit).
        else attempted.delete(attemptKey(l.action));
      }
      const pending = journal.pending(
        [...snapshot.instances, ...outcome.launches.flatMap((l) => (l.instance ? [l.instance] : []))],
        snapshot.now,
        deps.visibilityTimeoutMs,
      ).pending;
      snapshot = applyOutcome(snapshot, round_, pending, deps.capacity.active(after));
      // Slots deferred for the launch bucket get another round when the bucket now holds them all
      // (it refilled while this round's calls were out); otherwise the next cycle plans them again.
      const roomNow = deferred.length > 0 && this.launchBucketHolds(deferred);
      if (roomNow) for (const d of deferred) attempted.delete(attemptKey(d));
      if (!roomNow && !outcome.launches.some((l) => l.failure?.kind === 'capacity')) break;
      current = plan(snapshot, deps.policies, deps.fleet);
      const retrying = current.actions.filter((a) => a.kind === 'launch' && !attempted.has(attemptKey(a))).length;
      if (retrying > 0)
        deps.log.info(
          { round: round + 1, launches: retrying },
          roomNow ? 'launch bucket refilled: sending the deferred launches' : 'capacity refused: trying the next offers',
        );
    }
    // A replica that lost the lease mid-cycle leaves the state to the new leader.
    if (!this.holds()) return;
    await journal.commit(
      { timers: current.timers, established: current.established, trials: current.trials, endsSeen: observation.endsSeen },
      deps.clock.now(),
    );
    await this.images.publish(current.established);
  }
}
