import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { classify } from '../cloud/errors.js';
import type { Fence } from '../cloud/fence.js';
import { type Clock, monotonicNow } from '../domain/clock.js';
import { CorruptStateError, type StateStore, readValid } from '../shared/state-store.js';

export interface LeaseDoc {
  readonly holder: string;
  /** epoch ms by the holder's clock, for people reading the document; 0 once released. No replica judges by it. */
  readonly expiresAt: number;
  readonly renewedAt: number;
  /** the holder's renewals: every write changes the document, so the others see it is alive */
  readonly counter?: number;
}

export const LEASE_DOC = 'lease.json';

export interface LeaseStatus {
  readonly held: boolean;
  /** who holds it, when someone else does */
  readonly holder?: string;
  readonly expiresAt?: number;
  /** some replica (this one included) was seen leading within the last TTL */
  readonly leaderAlive: boolean;
  /** ms until this replica may take the lease over, should it stay unchanged */
  readonly takeoverInMs?: number;
  /** why the lease could not be read or written: code and message */
  readonly error?: string;
}

/** A name for this replica: host, process, and a random part so two processes never collide. */
export function replicaId(): string {
  return `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
}

export function leaseProblem(doc: unknown): string | undefined {
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return 'expected a JSON object';
  const d = doc as Record<string, unknown>;
  if (typeof d.holder !== 'string' || d.holder === '') return 'holder: expected a non-empty string';
  for (const key of ['expiresAt', 'renewedAt'])
    if (typeof d[key] !== 'number' || !Number.isFinite(d[key])) return `${key}: expected a number`;
  if (d.counter !== undefined && !Number.isSafeInteger(d.counter)) return 'counter: expected an integer';
  return undefined;
}

type Seen =
  | { readonly kind: 'missing' }
  | { readonly kind: 'corrupt'; readonly etag: string }
  | { readonly kind: 'doc'; readonly doc: LeaseDoc; readonly etag: string };

/**
 * One leader among replicas, through a lease document in the state store written with conditional
 * writes: the holder renews it every cycle, the others watch it. No replica trusts another's clock:
 * a standby takes the lease over only once the document has not changed for a whole TTL by its own
 * monotonic clock (or at once when it was released, or when it never saw anyone lead). A corrupt
 * document is replaced the same way; a missing one is created with a create-only write.
 * The holder considers its lease lost a third of the TTL before anyone may take it over, so a slow
 * write cannot give two leaders at once. It is the fence of every mutating call (see
 * cloud/fence.ts): a replica that stalled past its lease sends nothing more.
 */
export class LeaderLease implements Fence {
  /** of this replica's last write, while no other holder has been seen since */
  private etag: string | undefined;
  private counter = 0;
  /** monotonic ms */
  private heldUntil = 0;
  private lastSeen: string | undefined;
  /** monotonic ms another replica's lease was last seen to change (or first seen at all) */
  private othersActiveAt: number | undefined;

  constructor(
    private readonly state: StateStore,
    readonly holder: string,
    private readonly ttlMs: number,
    private readonly clock: Clock,
    private readonly log: Logger,
  ) {}

  /** Acquire the lease, renew it, or learn who holds it. Never throws: a failure means "not held". */
  async acquireOrRenew(): Promise<LeaseStatus> {
    const started = this.mono();
    let seen: Seen;
    try {
      seen = await this.look();
    } catch (e) {
      return this.failed(e);
    }
    const tag = seen.kind === 'missing' ? 'missing' : seen.etag;
    const changed = tag !== this.lastSeen;
    this.lastSeen = tag;
    const mine = seen.kind === 'doc' && seen.doc.holder === this.holder;
    const released = seen.kind === 'doc' && seen.doc.expiresAt === 0;
    if (seen.kind === 'doc' && !mine && !released) {
      if (this.holds()) this.log.warn({ holder: seen.doc.holder }, 'leader lease lost: another replica holds it');
      this.heldUntil = 0;
      this.etag = undefined;
      if (changed) this.othersActiveAt = this.mono();
    } else if (seen.kind === 'corrupt' && changed && this.etag === undefined) {
      // Perhaps a leader's lease damaged in place: it gets a whole TTL to show it is alive.
      this.othersActiveAt = this.mono();
    }
    const waitMs =
      this.etag !== undefined || mine || released || this.othersActiveAt === undefined
        ? 0
        : this.ttlMs - (this.mono() - this.othersActiveAt);
    if (waitMs > 0) {
      return {
        held: false,
        leaderAlive: true,
        takeoverInMs: waitMs,
        ...(seen.kind === 'doc' ? { holder: seen.doc.holder, expiresAt: seen.doc.expiresAt } : {}),
      };
    }
    if (!mine && this.holds()) {
      // Deleted or damaged under this replica: it acts no more until its own write has landed again.
      this.log.warn({ lease: seen.kind }, 'leader lease gone from the state store; taking it again before acting');
      this.heldUntil = 0;
    }
    return this.take(seen, started);
  }

  private async take(seen: Seen, started: number): Promise<LeaseStatus> {
    const wasHeld = this.holds();
    const now = this.clock.now();
    this.counter += 1;
    const doc: LeaseDoc = { holder: this.holder, expiresAt: now + this.ttlMs, renewedAt: now, counter: this.counter };
    try {
      this.etag = await this.state.write(LEASE_DOC, doc, seen.kind === 'missing' ? undefined : seen.etag);
    } catch (e) {
      return this.failed(e);
    }
    this.lastSeen = this.etag;
    this.heldUntil = started + (this.ttlMs * 2) / 3;
    if (!wasHeld)
      this.log.info(
        { holder: this.holder, previous: seen.kind === 'doc' ? seen.doc.holder : seen.kind, ttlMs: this.ttlMs },
        'leader lease acquired',
      );
    return { held: true, leaderAlive: true };
  }

  private async look(): Promise<Seen> {
    try {
      const found = await readValid<LeaseDoc>(this.state, LEASE_DOC, leaseProblem);
      return found === undefined ? { kind: 'missing' } : { kind: 'doc', doc: found.doc, etag: found.etag };
    } catch (e) {
      if (!(e instanceof CorruptStateError)) throw e;
      this.log.warn({ error: e.message }, 'leader lease document is malformed; it is replaced once it stays unchanged for a TTL');
      return { kind: 'corrupt', etag: e.etag };
    }
  }

  private failed(e: unknown): LeaseStatus {
    const error = classify(e);
    const where = `${this.state.where.replace(/\/?$/, '/')}${LEASE_DOC}`;
    if (error.errorClass === 'conflict') {
      // Another replica wrote it first: it is alive.
      this.othersActiveAt = this.mono();
      this.log.info({ lease: where }, 'leader lease taken by another replica first');
    } else {
      this.log.warn(
        { lease: where, code: error.code, class: error.errorClass, error: error.message, held: this.holds() },
        'leader lease cannot be read or written',
      );
    }
    this.heldUntil = 0;
    const alive = this.othersActiveAt !== undefined && this.mono() - this.othersActiveAt < this.ttlMs;
    return { held: false, leaderAlive: alive, error: `${where}: ${error.code}: ${error.message}` };
  }

  /** Whether this replica may mutate right now, by its own (conservative) reckoning. */
  holds(): boolean {
    return this.mono() < this.heldUntil;
  }

  remainingMs(): number {
    return Math.max(0, this.heldUntil - this.mono());
  }

  /** Renew while a long cycle runs; false when the lease is held by another or cannot be renewed. */
  async renew(): Promise<boolean> {
    return (await this.acquireOrRenew()).held;
  }

  /**
   * For a single run (reconcile --once): a lease whose holder's own expiry claim has passed is watched
   * for a TTL on this clock and taken over only if it stays unchanged; a live-looking one is not waited for.
   */
  async acquireForOneRun(): Promise<LeaseStatus> {
    let status = await this.acquireOrRenew();
    const first = this.lastSeen;
    while (!status.held && status.takeoverInMs !== undefined && (status.expiresAt ?? 0) <= this.clock.now() && this.lastSeen === first) {
      await this.clock.sleep(Math.min(status.takeoverInMs, this.ttlMs / 10) + 1);
      status = await this.acquireOrRenew();
    }
    return status;
  }

  /**
   * Give the lease up (on shutdown), so another replica or the next run need not wait a TTL. Done
   * whenever this replica wrote the current document, however long the shutdown took: the write is
   * conditional on that document, so a lease taken over meanwhile is left alone.
   */
  async release(): Promise<void> {
    const etag = this.etag;
    if (etag === undefined) return;
    this.heldUntil = 0;
    this.etag = undefined;
    try {
      const now = this.clock.now();
      await this.state.write<LeaseDoc>(LEASE_DOC, { holder: this.holder, expiresAt: 0, renewedAt: now, counter: this.counter + 1 }, etag);
      this.log.info({ holder: this.holder }, 'leader lease released');
    } catch (e) {
      const error = classify(e);
      if (error.errorClass !== 'conflict')
        this.log.warn({ code: error.code, error: error.message }, 'leader lease not released; the others take it over after a TTL');
    }
  }

  private mono(): number {
    return monotonicNow(this.clock);
  }
}

/** A lease lives three intervals (at least 30 s): a missed cycle or two does not hand it over. */
export function leaseTtlMs(intervalSeconds: number): number {
  return Math.max(30_000, 3 * intervalSeconds * 1000);
}

/**
 * The service loop's `beforeCycle` with a lease: take or renew it, and run the cycle only if held
 * (false: this replica stands by for the interval). `onStatus` hears every answer.
 */
export function leaseGate(lease: LeaderLease, log: Logger, onStatus?: (status: LeaseStatus) => void): () => Promise<boolean> {
  return async () => {
    const status = await lease.acquireOrRenew();
    onStatus?.(status);
    if (!status.held && status.holder)
      log.info(
        { holder: status.holder, until: status.expiresAt ? new Date(status.expiresAt).toISOString() : undefined },
        'standby: another replica holds the leader lease',
      );
    return status.held;
  };
}
