import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LaunchRequest } from '../../../src/cloud/port.js';
import { Journal } from '../../../src/service/journal.js';
import { userDataDigest } from '../../../src/service/launch-calls.js';
import { RECONCILER_DOC, type ReconcilerDoc } from '../../../src/service/state-docs.js';
import { DirectoryStateStore } from '../../../src/shared/state-store.js';
import { T0, instance } from '../../support/builders.js';

function request(token: string, name: string, az = 'us-east-1a'): LaunchRequest {
  return {
    fleet: 'releng',
    pool: 'bld-linux64',
    region: 'us-east-1',
    az,
    subnetId: `subnet-${az.slice(-1)}`,
    securityGroups: ['sg-1'],
    instanceType: 'c5.xlarge',
    lifecycle: 'spot',
    ami: 'ami-new',
    clientToken: token,
    slots: [{ name }],
    tags: { 'fleet:managed-by': 'releng' },
  };
}

const TIMERS = { 'bld-linux64': { shortfallSince: T0 - 60_000 } };
const NOTHING = { timers: TIMERS, established: {}, trials: {}, endsSeen: {} };

describe('journal: reconciler.json', () => {
  let dir: string;
  let store: DirectoryStateStore;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'fleet-journal-'));
    store = new DirectoryStateStore(dir);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const stored = async () => (await store.read<ReconcilerDoc>(RECONCILER_DOC))?.doc;

  it('a launch refused in a later round of the cycle does not stay: the end-of-cycle write compares with what was last written', async () => {
    // The cycle before left the pool short, with its timer: the same timers this cycle.
    const before = await Journal.open(store);
    await before.commit(NOTHING, T0 - 60_000);
    expect((await stored())?.launches).to.deep.equal([]);

    const journal = await Journal.open(store);
    // Round 1: one offer refuses. Round 2: the next offer refuses too.
    await journal.recordSending([request('fleet-round-1', 'bld-linux64-spot-001', 'us-east-1a')], [], T0);
    journal.recordAnswers(new Map([['fleet-round-1', { kind: 'refused' as const }]]));
    await journal.recordSending([request('fleet-round-2', 'bld-linux64-spot-001', 'us-east-1b')], [], T0);
    expect((await stored())?.launches.map((l) => l.request.clientToken)).to.deep.equal(['fleet-round-2']);
    journal.recordAnswers(new Map([['fleet-round-2', { kind: 'refused' as const }]]));
    // Nothing else changed: the document equals the one read at the start, not the one last written.
    await journal.commit(NOTHING, T0);
    expect((await stored())?.launches).to.deep.equal([]);
    // A fresh reader (the next cycle, another replica) sees no launch to wait for.
    const next = await Journal.open(store);
    expect(next.pending([], T0 + 1000, 600_000).pending).to.deep.equal([]);
  });

  it('a re-send restarts the wait for its instances, written before it leaves: given up on only a visibility timeout after it', async () => {
    const journal = await Journal.open(store);
    const sent = request('fleet-held', 'bld-linux64-spot-001');
    await journal.recordSending([sent], [], T0);
    // Held unanswered for nine minutes, then re-sent: EC2 makes the instance only now.
    await journal.recordSending([sent], [], T0 + 540_000);
    journal.recordAnswers(new Map([['fleet-held', { kind: 'made' as const, instanceIds: ['i-late'] }]]));
    await journal.commit(NOTHING, T0 + 540_000);
    // A process killed right after the re-send left still reads the time it left.
    expect((await stored())?.launches.map((l) => l.requestedAt)).to.deep.equal([T0 + 540_000]);
    const next = await Journal.open(store);
    const settled = next.settle([], T0 + 660_000, 600_000);
    expect(settled.expired).to.deep.equal([]);
    expect(settled.pending.map((p) => [p.name, p.instanceId])).to.deep.equal([['bld-linux64-spot-001', 'i-late']]);
    expect(next.settle([], T0 + 1_200_000, 600_000).expired.map((l) => l.request.clientToken)).to.deep.equal(['fleet-held']);
  });

  it('an unanswered call stays resendable with its whole request; an IdempotentParameterMismatch answer freezes it (landed: wait, never re-send)', async () => {
    const journal = await Journal.open(store);
    const sent = request('fleet-lost', 'bld-linux64-spot-001');
    await journal.recordSending([sent], [], T0);
    journal.recordAnswers(new Map([['fleet-lost', { kind: 'unknown' as const }]]));
    await journal.commit(NOTHING, T0);

    const reread = await Journal.open(store);
    expect(reread.resendable('fleet-lost')).to.deep.equal({ request: sent });
    expect(reread.pending([], T0 + 1000, 600_000).pending.map((p) => [p.name, p.resendable])).to.deep.equal([
      ['bld-linux64-spot-001', true],
    ]);

    reread.recordAnswers(new Map([['fleet-lost', { kind: 'landed' as const }]]));
    await reread.commit(NOTHING, T0 + 1000);
    const after = await Journal.open(store);
    expect(after.resendable('fleet-lost')).to.equal(undefined);
    // Still waited for (it counts, its name is held) until it is listed or times out.
    const pending = after.pending([], T0 + 2000, 600_000);
    expect(pending.pending.map((p) => [p.name, p.resendable])).to.deep.equal([['bld-linux64-spot-001', false]]);
    const listed = instance({
      id: 'i-landed',
      name: 'bld-linux64-spot-001',
      state: 'pending',
      launchTime: T0,
      clientToken: 'fleet-lost',
      launchIndex: 0,
    });
    expect(after.settle([listed], T0 + 3000, 600_000).pending).to.deep.equal([]);
    expect(after.document.launches).to.deep.equal([]);
  });

  it('never stores user data: a call keeps the digest of what it sent', async () => {
    const journal = await Journal.open(store);
    const sent = { ...request('fleet-secret', 'bld-linux64-spot-001'), userData: '#cloud-config\ntoken: s3cr3t\n' };
    await journal.recordSending([sent], [], T0);
    const raw = JSON.stringify(await stored());
    expect(raw).not.to.include('s3cr3t');
    expect(raw).not.to.include('"userData"');
    const { userData: _sent, ...kept } = sent;
    expect((await Journal.open(store)).resendable('fleet-secret')).to.deep.equal({
      request: kept,
      userDataSha256: userDataDigest(sent.userData),
    });
  });

  it('an older journal that holds user data still loads, and the next write drops it', async () => {
    const old = { ...request('fleet-old', 'bld-linux64-spot-001'), userData: '#cloud-config\ntoken: s3cr3t\n' };
    await store.write(
      RECONCILER_DOC,
      {
        version: 2,
        timers: TIMERS,
        launches: [{ request: old, requestedAt: T0 }],
        terminated: {},
        endsSeen: {},
        established: {},
        trials: {},
      },
      undefined,
    );
    const journal = await Journal.open(store);
    const { userData: _old, ...kept } = old;
    expect(journal.resendable('fleet-old')).to.deep.equal({ request: kept, userDataSha256: userDataDigest(old.userData) });
    expect(journal.pending([], T0 + 1000, 600_000).pending.map((p) => [p.name, p.resendable])).to.deep.equal([
      ['bld-linux64-spot-001', true],
    ]);
    // Nothing else changed this cycle: still written, to drop the user data.
    await journal.commit(NOTHING, T0 + 1000);
    expect(JSON.stringify(await stored())).not.to.include('s3cr3t');
  });

  it('a frozen call (its user data changed) is waited for, never re-sent', async () => {
    const journal = await Journal.open(store);
    await journal.recordSending([{ ...request('fleet-edited', 'bld-linux64-spot-001'), userData: 'a' }], [], T0);
    journal.freeze(['fleet-edited']);
    await journal.commit(NOTHING, T0);
    const next = await Journal.open(store);
    expect(next.resendable('fleet-edited')).to.equal(undefined);
    expect(next.pending([], T0 + 1000, 600_000).pending.map((p) => [p.name, p.resendable])).to.deep.equal([
      ['bld-linux64-spot-001', false],
    ]);
  });
});
