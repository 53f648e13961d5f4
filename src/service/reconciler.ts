import type { Logger } from 'pino';
import type { Cloud } from '../cloud/port.js';
import type { Clock } from '../domain/clock.js';
import type { LaunchAction, TerminateAction } from '../domain/actions.js';
import type { Outcome } from '../domain/outcome.js';
import type { PoolPolicy } from '../domain/policy.js';
import type { PendingLaunch } from '../domain/snapshot.js';
import { applyOutcome } from '../plan/apply-outcome.js';
import { applyGuard } from '../plan/guard.js';
import type { GuardTrip } from '../policy/freshness.js';
import { type Plan, plan } from '../plan/plan.js';
import { afterLaunches, pendingFor } from '../policy/pending-launches.js';
import type { CapacityMemory } from './capacity-memory.js';
import { actionFields, execute } from './execute.js';
import type { Observation, Observer } from './observe.js';
import { recordDrains } from './drains.js';
import { RECONCILER_DOC, type ReconcilerDoc, TERMINATED_MEMORY_MS } from './state-docs.js';
import type { StateStore } from './state-store.js';

export interface ReconcilerDeps {
  readonly fleet: string;
  readonly policies: readonly PoolPolicy[];
  readonly cloud: Cloud;
  readonly state: StateStore;
  readonly clock: Clock;
  readonly log: Logger;
  readonly observer: Observer;
  readonly capacity: CapacityMemory;
  /** Checked before every mutating round: a replica that lost the lease stops at once. */
  readonly mayMutate?: () => boolean;
}

export interface CycleResult {
  readonly observation: Observation;
  /** the cycle's first plan: what an operator previews */
  readonly plan: Plan;
  readonly outcomes: readonly Outcome[];
  readonly dryRun: boolean;
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

  constructor(private readonly deps: ReconcilerDeps) {
    this.policiesByPool = new Map(deps.policies.map((p) => [p.pool, p]));
  }

  /** One observation and its plan; images the launch guard condemns count as drained. */
  async planOnly(): Promise<{ observation: Observation; plan: Plan; trips: GuardTrip[] }> {
    const observed = await this.deps.observer.observe();
    const { snapshot, trips } = applyGuard(observed.snapshot, this.deps.policies);
    const observation = { ...observed, snapshot };
    return { observation, plan: plan(snapshot, this.deps.policies, this.deps.fleet), trips };
  }

  async cycle({ dryRun }: { dryRun: boolean }): Promise<CycleResult> {
    const { log } = this.deps;
    const { observation, plan: first, trips } = await this.planOnly();
    if (first.blocked) log.error({ reason: first.blocked }, 'cycle blocked');
    for (const trip of trips) log.error({ pool: trip.pool, region: trip.region, ami: trip.ami, reason: trip.reason }, dryRun ? 'guard would drain the AMI' : 'guard drains the AMI');
    for (const pool of first.pools) {
      // A pool left short is the operator's business (why it is short is in the notes).
      if (pool.unmet > 0) log.warn({ pool: pool.pool, desired: pool.desired, live: pool.live, unmet: pool.unmet, notes: pool.notes }, 'pool short');
      else if (pool.notes.length > 0) log.debug({ pool: pool.pool, notes: pool.notes }, 'pool notes');
    }
    if (dryRun) {
      for (const action of first.actions) log.info({ ...actionFields(action), dryRun: true }, `would ${action.kind}`);
      return { observation, plan: first, outcomes: [], dryRun };
    }
    const mayMutate = () => this.deps.mayMutate?.() ?? true;
    if (!mayMutate()) {
      log.warn('not the leader: this cycle changes nothing');
      return { observation, plan: first, outcomes: [], dryRun };
    }
    if (trips.length > 0) await recordDrains(this.deps.state, trips.map((t) => ({ ami: t.ami, reason: t.reason, by: 'guard' as const })), observation.snapshot.now);

    let snapshot = observation.snapshot;
    let doc: ReconcilerDoc = { ...observation.reconciler.doc, pendingLaunches: observation.settled.pending };
    let etag = observation.reconciler.etag;
    let current = first;
    const attempted = new Set<string>();
    const outcomes: Outcome[] = [];
    let timers = first.timers;
    for (let round = 1; round <= MAX_ROUNDS; round++) {
      const todo = current.actions.filter((a) => a.kind === 'terminate' ? round === 1 : !attempted.has(a.clientToken));
      if (todo.length === 0) break;
      if (!mayMutate()) {
        log.warn('no longer the leader: stopping before any further change');
        break;
      }
      const launches = todo.filter((a): a is LaunchAction => a.kind === 'launch');
      for (const l of launches) attempted.add(l.clientToken);
      // Record launches and terminations before making them: a crash after the call must neither
      // lead to a second launch nor make fleet's own terminations look like failures to the guard.
      const known = new Set(doc.pendingLaunches.map((p) => p.clientToken));
      const fresh = launches.filter((l) => !known.has(l.clientToken)).map((l) => pendingFor(l, snapshot.now));
      const terminating = todo.filter((a): a is TerminateAction => a.kind === 'terminate').map((t) => t.instanceId);
      if (fresh.length > 0 || terminating.length > 0) {
        doc = {
          ...doc,
          pendingLaunches: [...doc.pendingLaunches, ...fresh],
          terminated: { ...doc.terminated, ...Object.fromEntries(terminating.map((id) => [id, snapshot.now])) },
        };
        etag = await this.deps.state.write(RECONCILER_DOC, doc, etag);
      }
      const outcome = await execute(todo, { cloud: this.deps.cloud, fleet: this.deps.fleet, policies: this.policiesByPool, log });
      outcomes.push(outcome);
      const now = this.deps.clock.now();
      for (const l of outcome.launches) {
        if (l.failure && l.failure.kind !== 'retryable') this.deps.capacity.markUnavailable(l.action, now);
      }
      const pendingAfter: PendingLaunch[] = afterLaunches(doc.pendingLaunches, outcome.launches);
      doc = { ...doc, pendingLaunches: pendingAfter };
      snapshot = applyOutcome(snapshot, outcome, pendingAfter, this.deps.capacity.active(now));
      if (!outcome.launches.some((l) => l.failure?.kind === 'capacity')) break;
      current = plan(snapshot, this.deps.policies, this.deps.fleet);
      timers = current.timers;
      const retrying = current.actions.filter((a) => a.kind === 'launch' && !attempted.has(a.clientToken)).length;
      if (retrying > 0) log.info({ round: round + 1, launches: retrying }, 'capacity refused: trying the next offers');
    }
    const recent = Object.entries(doc.terminated).filter(([, at]) => observation.snapshot.now - at < TERMINATED_MEMORY_MS);
    const next: ReconcilerDoc = { timers, pendingLaunches: doc.pendingLaunches, terminated: Object.fromEntries(recent) };
    // A replica that lost the lease mid-cycle leaves the state to the new leader.
    if (mayMutate() && JSON.stringify(next) !== JSON.stringify(observation.reconciler.doc)) {
      await this.deps.state.write(RECONCILER_DOC, next, etag);
    }
    return { observation, plan: first, outcomes, dryRun };
  }
}
