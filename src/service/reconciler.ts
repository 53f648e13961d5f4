import type { Logger } from 'pino';
import type { Cloud } from '../cloud/port.js';
import type { Clock } from '../domain/clock.js';
import type { Action, LaunchAction } from '../domain/actions.js';
import type { Outcome } from '../domain/outcome.js';
import type { PoolPolicy } from '../domain/policy.js';
import type { PendingLaunch } from '../domain/snapshot.js';
import { applyOutcome } from '../plan/apply-outcome.js';
import { type Plan, plan } from '../plan/plan.js';
import { afterLaunches, pendingFor } from '../policy/pending-launches.js';
import type { CapacityMemory } from './capacity-memory.js';
import { execute } from './execute.js';
import type { Observation, Observer } from './observe.js';
import { RECONCILER_DOC, type ReconcilerDoc } from './state-docs.js';
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

  async planOnly(): Promise<{ observation: Observation; plan: Plan }> {
    const observation = await this.deps.observer.observe();
    return { observation, plan: plan(observation.snapshot, this.deps.policies, this.deps.fleet) };
  }

  async cycle({ dryRun }: { dryRun: boolean }): Promise<CycleResult> {
    const { log } = this.deps;
    const { observation, plan: first } = await this.planOnly();
    if (first.blocked) log.error({ reason: first.blocked }, 'cycle blocked');
    for (const pool of first.pools) {
      if (pool.notes.length > 0) log.debug({ pool: pool.pool, notes: pool.notes }, 'pool notes');
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
      // Record launches before making them: a crash after the call must not lead to a second one.
      const known = new Set(doc.pendingLaunches.map((p) => p.clientToken));
      const fresh = launches.filter((l) => !known.has(l.clientToken)).map((l) => pendingFor(l, snapshot.now));
      if (fresh.length > 0) {
        doc = { ...doc, pendingLaunches: [...doc.pendingLaunches, ...fresh] };
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
    const next: ReconcilerDoc = { timers, pendingLaunches: doc.pendingLaunches };
    // A replica that lost the lease mid-cycle leaves the state to the new leader.
    if (mayMutate() && JSON.stringify(next) !== JSON.stringify(observation.reconciler.doc)) {
      await this.deps.state.write(RECONCILER_DOC, next, etag);
    }
    return { observation, plan: first, outcomes, dryRun };
  }
}

export function actionFields(a: Action): Record<string, unknown> {
  return a.kind === 'launch'
    ? { pool: a.pool, name: a.name, region: a.region, az: a.az, instanceType: a.instanceType, lifecycle: a.lifecycle, ami: a.ami, price: a.price, reason: a.reason }
    : { pool: a.pool, instance: a.instanceId, name: a.name, region: a.region, lifecycle: a.lifecycle, reason: a.reason };
}
