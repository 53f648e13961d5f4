import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { classify } from '../cloud/errors.js';
import type { Fence } from '../cloud/fence.js';
import type { Clock } from '../domain/clock.js';
import type { StateStore } from './state-store.js';

export interface LeaseDoc {
  readonly holder: string;
  /** epoch ms; 0 once released */
  readonly expiresAt: number;
  readonly renewedAt: number;
}

export const LEASE_DOC = 'lease.json';

export interface LeaseStatus {
  readonly held: boolean;
  /** who holds it, when someone else does */
  readonly holder?: string;
  readonly expiresAt?: number;
}

/** A name for this replica: host, process, and a random part so two processes never collide. */
export function replicaId(): string {
  return `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
}

/**
 * One leader among replicas, through a lease document in the state store written with
 * conditional writes: whoever holds an unexpired lease mutates, the others stand by.
 * This replica considers its own lease lost a third of the TTL before the others may take it
 * over, so clock skew and a slow write cannot give two leaders at once. It is the fence of every
 * mutating call (see cloud/fence.ts): a replica that stalled past its lease sends nothing more.
 */
export class LeaderLease implements Fence {
  private etag: string | undefined;
  private heldUntil = 0;

  constructor(
    private readonly state: StateStore,
    readonly holder: string,
    private readonly ttlMs: number,
    private readonly clock: Clock,
    private readonly log: Logger,
  ) {}

  /** Acquire the lease, renew it, or learn who holds it. Never throws: a failure means "not held". */
  async acquireOrRenew(): Promise<LeaseStatus> {
    const now = this.clock.now();
    try {
      const current = await this.state.read<LeaseDoc>(LEASE_DOC);
      if (current && current.doc.holder !== this.holder && current.doc.expiresAt > now) {
        this.heldUntil = 0;
        return { held: false, holder: current.doc.holder, expiresAt: current.doc.expiresAt };
      }
      const doc: LeaseDoc = { holder: this.holder, expiresAt: now + this.ttlMs, renewedAt: now };
      this.etag = await this.state.write(LEASE_DOC, doc, current?.etag);
      const wasHeld = this.holds();
      this.heldUntil = now + (this.ttlMs * 2) / 3;
      if (!wasHeld) this.log.info({ holder: this.holder, previous: current?.doc.holder, ttlMs: this.ttlMs }, 'leader lease acquired');
      return { held: true };
    } catch (e) {
      const error = classify(e);
      if (this.holds()) this.log.warn({ code: error.code, error: error.message }, 'leader lease lost');
      this.heldUntil = 0;
      return { held: false };
    }
  }

  /** Whether this replica may mutate right now, by its own (conservative) reckoning. */
  holds(): boolean {
    return this.clock.now() < this.heldUntil;
  }

  remainingMs(): number {
    return Math.max(0, this.heldUntil - this.clock.now());
  }

  /** Renew while a long cycle runs; false when the lease is held by another or cannot be renewed. */
  async renew(): Promise<boolean> {
    return (await this.acquireOrRenew()).held;
  }

  /** Give the lease up (on shutdown), so another replica or the next run need not wait for it to expire. */
  async release(): Promise<void> {
    if (this.etag === undefined || !this.holds()) return;
    this.heldUntil = 0;
    try {
      await this.state.write<LeaseDoc>(LEASE_DOC, { holder: this.holder, expiresAt: 0, renewedAt: this.clock.now() }, this.etag);
      this.log.info({ holder: this.holder }, 'leader lease released');
    } catch {
      // Someone took it over already: nothing to give back.
    }
  }
}

/** A lease lives three intervals (at least 30 s): a missed cycle or two does not hand it over. */
export function leaseTtlMs(intervalSeconds: number): number {
  return Math.max(30_000, 3 * intervalSeconds * 1000);
}
