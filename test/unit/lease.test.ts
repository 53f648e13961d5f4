import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CloudError } from '../../src/cloud/errors.js';
import type { Clock } from '../../src/domain/clock.js';
import { LEASE_DOC, type LeaseDoc, LeaderLease } from '../../src/service/lease.js';
import { silentLogger } from '../../src/service/logger.js';
import { DirectoryStateStore, type StateStore } from '../../src/shared/state-store.js';
import { capturedLogger } from '../support/log-capture.js';

const TTL = 30_000;

/** A replica's clocks: its wall clock (which may be wrong) and its monotonic one, set by the test. */
class ReplicaClock implements Clock {
  constructor(
    public wall: number,
    public mono = 0,
  ) {}
  now(): number {
    return this.wall;
  }
  monotonic(): number {
    return this.mono;
  }
  advance(ms: number): void {
    this.wall += ms;
    this.mono += ms;
  }
  async sleep(ms: number): Promise<void> {
    this.advance(ms);
  }
}

describe("leader lease: judged on each replica's own monotonic clock", () => {
  let dir: string;
  let state: StateStore;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'fleet-lease-'));
    state = new DirectoryStateStore(dir);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const lease = (name: string, clock: Clock, log = silentLogger()) => new LeaderLease(state, name, TTL, clock, log);
  const doc = async () => (await state.read<LeaseDoc>(LEASE_DOC))?.doc;

  it("a standby takes over only after the lease stayed unchanged a whole TTL by its own clock, whatever the holder's wall clock says", async () => {
    // A's wall clock is a day ahead: its expiresAt claims a lease far into the future.
    const clockA = new ReplicaClock(Date.UTC(2026, 0, 2));
    const clockB = new ReplicaClock(Date.UTC(2026, 0, 1), 5_000);
    const a = lease('replica-a', clockA);
    const b = lease('replica-b', clockB);
    expect((await a.acquireOrRenew()).held).to.equal(true);
    const first = await b.acquireOrRenew();
    expect(first).to.deep.include({ held: false, holder: 'replica-a', leaderAlive: true, takeoverInMs: TTL });
    // A renews within the TTL: B keeps waiting, counting from the change it saw.
    clockA.advance(20_000);
    clockB.advance(20_000);
    expect((await a.acquireOrRenew()).held).to.equal(true);
    clockB.advance(20_000);
    expect((await b.acquireOrRenew()).held).to.equal(false);
    clockB.advance(TTL - 1);
    expect((await b.acquireOrRenew()).held).to.equal(false);
    // A dies; B's TTL runs out since the last change it saw.
    clockB.advance(1);
    expect((await b.acquireOrRenew()).held).to.equal(true);
    expect((await doc())?.holder).to.equal('replica-b');
  });

  it("a standby never takes over a lease only because the holder's wall clock is behind", async () => {
    const clockA = new ReplicaClock(Date.UTC(2020, 0, 1));
    const clockB = new ReplicaClock(Date.UTC(2026, 0, 1));
    const a = lease('replica-a', clockA);
    const b = lease('replica-b', clockB);
    await a.acquireOrRenew();
    expect((await b.acquireOrRenew()).held).to.equal(false);
    expect(a.holds()).to.equal(true);
  });

  it('a corrupt lease is replaced after a TTL of no change, with a conditional write; until then the standby waits', async () => {
    writeFileSync(join(dir, LEASE_DOC), '{"holder": tru');
    const clock = new ReplicaClock(Date.UTC(2026, 0, 1));
    const { log, lines } = capturedLogger();
    const b = lease('replica-b', clock, log);
    const waiting = await b.acquireOrRenew();
    expect(waiting).to.deep.include({ held: false, leaderAlive: true, takeoverInMs: TTL });
    expect(lines().some((l) => l.level === 40 && String(l.error).includes('lease.json is malformed'))).to.equal(true);
    clock.advance(TTL);
    expect((await b.acquireOrRenew()).held).to.equal(true);
    expect((await doc())?.holder).to.equal('replica-b');
  });

  it('a lease of the wrong shape counts as corrupt too', async () => {
    writeFileSync(join(dir, LEASE_DOC), '{"holder": 7, "expiresAt": "soon"}');
    const clock = new ReplicaClock(Date.UTC(2026, 0, 1));
    const b = lease('replica-b', clock);
    expect((await b.acquireOrRenew()).held).to.equal(false);
    clock.advance(TTL);
    expect((await b.acquireOrRenew()).held).to.equal(true);
  });

  it('a deleted lease: the leader stops acting and takes it again; a standby that saw it alive waits a TTL', async () => {
    const clockA = new ReplicaClock(Date.UTC(2026, 0, 1));
    const clockB = new ReplicaClock(Date.UTC(2026, 0, 1));
    const a = lease('replica-a', clockA);
    const b = lease('replica-b', clockB);
    await a.acquireOrRenew();
    expect((await b.acquireOrRenew()).held).to.equal(false);
    rmSync(join(dir, LEASE_DOC));
    // The standby does not jump at the missing document: A may still be acting.
    expect((await b.acquireOrRenew()).held).to.equal(false);
    // A finds it gone at its next renewal and creates it again (create-only).
    clockA.advance(10_000);
    expect((await a.acquireOrRenew()).held).to.equal(true);
    expect((await doc())?.holder).to.equal('replica-a');
    clockB.advance(10_000);
    expect((await b.acquireOrRenew()).held).to.equal(false);
  });

  it('a missing lease with nobody seen leading is created at once, create-only: one of two racing replicas wins', async () => {
    const a = lease('replica-a', new ReplicaClock(Date.UTC(2026, 0, 1)));
    const b = lease('replica-b', new ReplicaClock(Date.UTC(2026, 0, 1)));
    const [sa, sb] = await Promise.all([a.acquireOrRenew(), b.acquireOrRenew()]);
    expect([sa.held, sb.held].filter(Boolean)).to.have.length(1);
  });

  it('is released on shutdown even when the shutdown took longer than the lease', async () => {
    const clockA = new ReplicaClock(Date.UTC(2026, 0, 1));
    const a = lease('replica-a', clockA);
    await a.acquireOrRenew();
    clockA.advance(TTL);
    expect(a.holds()).to.equal(false);
    await a.release();
    expect((await doc())?.expiresAt).to.equal(0);
    // A released lease is taken at once.
    expect((await lease('replica-b', new ReplicaClock(0)).acquireOrRenew()).held).to.equal(true);
  });

  it('does not release a lease another replica took over meanwhile', async () => {
    const clockA = new ReplicaClock(Date.UTC(2026, 0, 1));
    const clockB = new ReplicaClock(Date.UTC(2026, 0, 1));
    const a = lease('replica-a', clockA);
    const b = lease('replica-b', clockB);
    await a.acquireOrRenew();
    await b.acquireOrRenew();
    clockB.advance(TTL);
    expect((await b.acquireOrRenew()).held).to.equal(true);
    await a.release();
    expect(await doc()).to.deep.include({ holder: 'replica-b' });
    expect((await doc())?.expiresAt).to.be.greaterThan(0);
  });

  it('says where and why when the state store cannot be reached, and logs it at warn', async () => {
    const missing: StateStore = {
      where: 's3://no-such-bucket/state/',
      read: async () => {
        throw new CloudError('not-found', 'NoSuchBucket', 'The specified bucket does not exist', 404);
      },
      write: async () => '',
    };
    const { log, lines } = capturedLogger();
    const status = await new LeaderLease(missing, 'replica-a', TTL, new ReplicaClock(0), log).acquireOrRenew();
    expect(status).to.deep.include({
      held: false,
      leaderAlive: false,
      error: 's3://no-such-bucket/state/lease.json: NoSuchBucket: The specified bucket does not exist',
    });
    expect(
      lines()
        .filter((l) => l.level === 40)
        .map((l) => l.code),
    ).to.deep.equal(['NoSuchBucket']);
  });

  it("reconcile --once watches a lease whose holder's claim has passed for a TTL before taking it, and does not wait for a live one", async () => {
    const clockA = new ReplicaClock(Date.UTC(2026, 0, 1));
    await lease('replica-a', clockA).acquireOrRenew();
    // Live by its own claim: refused at once.
    const early = new ReplicaClock(Date.UTC(2026, 0, 1) + 1000);
    expect((await lease('replica-b', early).acquireForOneRun()).held).to.equal(false);
    expect(early.mono).to.equal(0);
    // Past its claim (a crashed run): watched a TTL on this clock, then taken.
    const late = new ReplicaClock(Date.UTC(2026, 0, 1) + 2 * TTL);
    expect((await lease('replica-c', late).acquireForOneRun()).held).to.equal(true);
    expect(late.mono).to.be.at.least(TTL);
  });
});
