import type { LaunchRequest } from '../cloud/port.js';
import { isCause } from '../domain/causes.js';
import type { PendingLaunch } from '../domain/snapshot.js';
import type { Instance } from '../domain/types.js';
import { userDataDigest } from './launch-calls.js';
import {
  EMPTY_RECONCILER_DOC,
  RECONCILER_DOC,
  type ReconcilerDoc,
  type SentLaunch,
  TERMINATED_MEMORY_MS,
  reconcilerProblem,
} from './state-docs.js';
import { CorruptStateError, type StateStore } from '../shared/state-store.js';

/** What the cloud answered to one launch call. */
export type CallAnswer =
  /** it made these instances, in launch-index order */
  | { readonly kind: 'made'; readonly instanceIds: readonly string[] }
  /** it refused for good (capacity, an invalid request): nothing was made */
  | { readonly kind: 'refused' }
  /** the token was already used with other parameters: an earlier send landed */
  | { readonly kind: 'landed' }
  /** no answer (retries ran out, the lease ran out, the connection broke): it may or may not have landed */
  | { readonly kind: 'unknown' };

/** The journal's slots against the cloud's listing. */
export interface Settled {
  /** slots not yet listed: they count as capacity (unless their image is drained) */
  readonly pending: PendingLaunch[];
  /** calls given up on: invisible for longer than the visibility timeout */
  readonly expired: SentLaunch[];
}

/** A journaled call that may be re-sent: its request without user data, and the digest of the user data sent. */
export interface JournaledCall {
  readonly request: LaunchRequest;
  readonly userDataSha256?: string;
}

export class JournalUnreadable extends Error {
  override readonly name = 'JournalUnreadable';
}

/**
 * The reconciler's journal, `reconciler.json`: the one place that knows what was sent, with exactly
 * which parameters. Launches are written before they are sent; answers are folded in after; every
 * write is conditional on the version this journal itself last read or wrote, so a second writer
 * (another replica) makes the write fail instead of being overwritten.
 */
export class Journal {
  private written: string;

  private constructor(
    private readonly state: StateStore,
    private doc: ReconcilerDoc,
    private etag: string | undefined,
    /** the document as stored: a migrated one differs, so the next commit writes it (and drops what it no longer keeps) */
    stored: unknown = doc,
  ) {
    this.written = JSON.stringify(stored);
  }

  static async open(state: StateStore): Promise<Journal> {
    let found;
    try {
      found = await state.read<unknown>(RECONCILER_DOC);
    } catch (e) {
      if (e instanceof CorruptStateError)
        throw new JournalUnreadable(`state ${RECONCILER_DOC} is not valid JSON: nothing changes until it is repaired or removed`);
      throw e;
    }
    return found === undefined
      ? new Journal(state, EMPTY_RECONCILER_DOC, undefined)
      : new Journal(state, migrate(found.doc), found.etag, found.doc);
  }

  /** A journal with nothing in it yet (a store that has never been written). */
  static blank(state: StateStore): Journal {
    return new Journal(state, EMPTY_RECONCILER_DOC, undefined);
  }

  get document(): ReconcilerDoc {
    return this.doc;
  }

  /** A call sent earlier (its request without user data, and the digest of that), if it may be re-sent. */
  resendable(clientToken: string): JournaledCall | undefined {
    const sent = this.doc.launches.find((l) => l.request.clientToken === clientToken);
    if (!sent || sent.frozen || sent.instanceIds !== undefined) return undefined;
    return { request: sent.request, ...(sent.userDataSha256 !== undefined ? { userDataSha256: sent.userDataSha256 } : {}) };
  }

  /** Never re-send these calls (written with the next flush): they are waited for until listed or timed out. */
  freeze(clientTokens: readonly string[]): void {
    if (clientTokens.length === 0) return;
    const frozen = new Set(clientTokens);
    this.doc = {
      ...this.doc,
      launches: this.doc.launches.map((l) => (frozen.has(l.request.clientToken) ? { ...l, frozen: true as const } : l)),
    };
  }

  /**
   * Match the journal against the instances the cloud lists now: slots seen leave the journal, calls
   * invisible for longer than the timeout are given up (except in regions that could not be listed),
   * the rest are pending.
   */
  settle(instances: readonly Instance[], now: number, visibilityTimeoutMs: number, unobserved: ReadonlySet<string> = new Set()): Settled {
    const settled = this.pending(instances, now, visibilityTimeoutMs, unobserved);
    const gone = new Set([...settled.expired, ...settled.done].map((l) => l.request.clientToken));
    this.doc = { ...this.doc, launches: this.doc.launches.filter((l) => !gone.has(l.request.clientToken)) };
    return { pending: settled.pending, expired: settled.expired };
  }

  /** The slots still pending against `instances`, without changing the journal (for re-planning within a cycle). */
  pending(
    instances: readonly Instance[],
    now: number,
    visibilityTimeoutMs: number,
    unobserved: ReadonlySet<string> = new Set(),
  ): Settled & { done: SentLaunch[] } {
    const byToken = new Map<string, Map<number, Instance>>();
    const ids = new Set<string>();
    for (const i of instances) {
      ids.add(i.id);
      if (i.clientToken === undefined) continue;
      const seen = byToken.get(i.clientToken) ?? new Map<number, Instance>();
      seen.set(i.launchIndex ?? 0, i);
      byToken.set(i.clientToken, seen);
    }
    const pending: PendingLaunch[] = [];
    const expired: SentLaunch[] = [];
    const done: SentLaunch[] = [];
    for (const sent of this.doc.launches) {
      const seen = byToken.get(sent.request.clientToken) ?? new Map<number, Instance>();
      // Once any of its instances is listed, the call is known to have landed: it is never re-sent.
      const landed = sent.instanceIds !== undefined || seen.size > 0;
      const slots = sent.request.slots
        .map((slot, index) => ({ slot, index, instanceId: sent.instanceIds?.[index] ?? seen.get(index)?.id }))
        .filter(({ index }) => sent.instanceIds === undefined || index < sent.instanceIds.length)
        .filter(({ index, instanceId }) => !seen.has(index) && !(instanceId !== undefined && ids.has(instanceId)));
      if (slots.length === 0) {
        done.push(sent);
        continue;
      }
      if (now - sent.requestedAt > visibilityTimeoutMs && !unobserved.has(sent.request.region)) {
        expired.push(sent);
        continue;
      }
      const r = sent.request;
      for (const { slot, instanceId } of slots) {
        pending.push({
          pool: r.pool,
          region: r.region,
          az: r.az,
          subnetId: r.subnetId,
          instanceType: r.instanceType,
          lifecycle: r.lifecycle,
          ami: r.ami,
          name: slot.name,
          ...(slot.replaces !== undefined ? { replaces: slot.replaces } : {}),
          // A journal is read back from the state store: a cause is kept only if it is one fleet knows.
          ...(isCause(slot.cause) ? { cause: slot.cause } : {}),
          ...(r.maxPrice !== undefined ? { maxPrice: r.maxPrice } : {}),
          clientToken: r.clientToken,
          requestedAt: sent.requestedAt,
          ...(instanceId !== undefined ? { instanceId } : {}),
          resendable: !landed && !sent.frozen,
        });
      }
    }
    return { pending, expired, done };
  }

  /**
   * Write down launches about to be sent (or re-sent) and instances about to be terminated, before
   * doing either. A re-send restarts its call's wait to become visible: what it makes is as new as it.
   */
  async recordSending(requests: readonly LaunchRequest[], terminating: readonly string[], now: number): Promise<void> {
    const known = new Set(this.doc.launches.map((l) => l.request.clientToken));
    const fresh = requests.filter((r) => !known.has(r.clientToken)).map((request) => sentLaunch(request, now));
    const resent = new Set(requests.filter((r) => known.has(r.clientToken)).map((r) => r.clientToken));
    if (fresh.length === 0 && resent.size === 0 && terminating.every((id) => this.doc.terminated[id] !== undefined)) return;
    this.doc = {
      ...this.doc,
      launches: [...this.doc.launches.map((l) => (resent.has(l.request.clientToken) ? { ...l, requestedAt: now } : l)), ...fresh],
      terminated: { ...this.doc.terminated, ...Object.fromEntries(terminating.map((id) => [id, now])) },
    };
    await this.flush();
  }

  /** Fold the cloud's answers in (written with the next flush). A refused call leaves the journal at once. */
  recordAnswers(answers: ReadonlyMap<string, CallAnswer>): void {
    const launches: SentLaunch[] = [];
    for (const sent of this.doc.launches) {
      const answer = answers.get(sent.request.clientToken);
      if (answer === undefined || answer.kind === 'unknown') launches.push(sent);
      else if (answer.kind === 'made') launches.push({ ...sent, instanceIds: answer.instanceIds });
      else if (answer.kind === 'landed') launches.push({ ...sent, frozen: true });
      // refused: nothing was made, nothing to wait for
    }
    this.doc = { ...this.doc, launches };
  }

  /**
   * The end of a cycle: the timers and facts the plan keeps, the ends first seen this cycle, and
   * memory that is no longer needed dropped. Written only when something changed since the last write.
   */
  async commit(update: Pick<ReconcilerDoc, 'timers' | 'established' | 'trials' | 'endsSeen'>, now: number): Promise<void> {
    const terminated = Object.fromEntries(Object.entries(this.doc.terminated).filter(([, at]) => now - at < TERMINATED_MEMORY_MS));
    this.doc = {
      ...this.doc,
      timers: update.timers,
      established: update.established,
      trials: update.trials,
      endsSeen: update.endsSeen,
      terminated,
    };
    if (JSON.stringify(this.doc) !== this.written) await this.flush();
  }

  private async flush(): Promise<void> {
    this.etag = await this.state.write(RECONCILER_DOC, this.doc, this.etag);
    this.written = JSON.stringify(this.doc);
  }
}

/** A call as the journal keeps it: user data is not stored, only its digest. */
function sentLaunch(request: LaunchRequest, requestedAt: number): SentLaunch {
  const { userData, ...kept } = request;
  return { request: kept, requestedAt, ...(userData !== undefined ? { userDataSha256: userDataDigest(userData) } : {}) };
}

/**
 * A journal document as stored, made current. Documents of the first version kept each pending
 * launch without its whole request: those are kept as waiting, never re-sent. Later ones kept user
 * data: it is replaced by its digest.
 */
export function migrate(raw: unknown): ReconcilerDoc {
  const wrong = reconcilerProblem(raw);
  if (wrong !== undefined)
    throw new JournalUnreadable(`state ${RECONCILER_DOC}: ${wrong}: nothing changes until it is repaired or removed`);
  const doc = raw as Partial<ReconcilerDoc> & { pendingLaunches?: readonly (PendingLaunch & { instanceId?: string })[] };
  // Older documents kept each call's user data: only its digest stays.
  const launches: SentLaunch[] = Array.isArray(doc.launches)
    ? (doc.launches as SentLaunch[]).map((l) =>
        (l.request as { userData?: string } | undefined)?.userData !== undefined ? { ...l, ...sentLaunch(l.request, l.requestedAt) } : l,
      )
    : [];
  for (const p of doc.pendingLaunches ?? []) {
    launches.push({
      request: {
        fleet: '',
        pool: p.pool,
        region: p.region,
        az: p.az,
        subnetId: p.subnetId,
        securityGroups: [],
        instanceType: p.instanceType,
        lifecycle: p.lifecycle,
        ami: p.ami,
        clientToken: p.clientToken,
        slots: [
          {
            name: p.name,
            ...(p.replaces !== undefined ? { replaces: p.replaces } : {}),
            ...(p.cause !== undefined ? { cause: p.cause } : {}),
          },
        ],
        tags: {},
      },
      requestedAt: p.requestedAt,
      ...(p.instanceId !== undefined ? { instanceIds: [p.instanceId] } : {}),
      frozen: true,
    });
  }
  return {
    version: 2,
    timers: doc.timers ?? {},
    launches,
    terminated: doc.terminated ?? {},
    endsSeen: doc.endsSeen ?? {},
    established: doc.established ?? {},
    trials: doc.trials ?? {},
  };
}
