// The soak harness's own parts: the process wrapper that kills and stalls, what the judge reads
// from published inputs, and the invalid manifests it publishes.

import { expect } from 'chai';
import { classify } from '../../../src/cloud/errors.js';
import { parseManifest } from '../../../src/manifest/manifest.js';
import { SimCloud } from '../../../src/fake-cloud/cloud.js';
import { FaultWindows } from '../../soak/chaos.js';
import { currentImages, liveChanges, liveJustBefore } from '../../soak/judge.js';
import { SOAK_FLEET } from '../../soak/scenario.js';
import { checkBadManifestRetirements } from '../../soak/invariants/bad-manifest.js';
import { badManifest } from '../../soak/inputs.js';
import { Ledger, isFinalRefusal } from '../../soak/ledger.js';
import { ProcessCloud, ProcessKilled } from '../../soak/process.js';
import { rejection } from '../../support/expect.js';

const START = Date.parse('2026-11-20T10:00:00Z');
const REGION = 'us-east-1';

function world() {
  const cloud = new SimCloud({ seed: 3, start: START, defaultSubnets: [REGION], faults: { enforceRateLimits: false } });
  cloud.objects.createBucket('b');
  const image = cloud.world.registerImage(REGION, 'golden', START - 3600_000);
  const subnet = [...cloud.world.subnets.values()][0];
  const process = new ProcessCloud(cloud, {
    replica: 'replica-a',
    process: 'replica-a#1',
    clock: cloud.clock,
    watchReads: (_b, key) => key === 'desired.json',
  });
  const launch = (n: number) =>
    process.compute(REGION).launch({
      fleet: 'releng',
      pool: 'bld',
      slots: [{ name: `bld-${n}` }],
      tags: { 'fleet:managed-by': 'releng', 'fleet:pool': 'bld', Name: `bld-${n}` },
      region: REGION,
      az: subnet?.az as string,
      subnetId: subnet?.id as string,
      securityGroups: [],
      instanceType: 'c5.xlarge',
      lifecycle: 'spot',
      ami: image.id,
      clientToken: `t-${n}`,
    });
  return { cloud, process, launch };
}

describe('soak harness: a process that dies or stalls', () => {
  it('killed before a call leaves: nothing reaches the cloud, and every later call is refused', async () => {
    const { cloud, process, launch } = world();
    void process.arm({ kind: 'kill', atCall: 2, afterSend: false });
    await launch(1);
    expect(await rejection(launch(2))).to.be.instanceOf(ProcessKilled);
    expect(await rejection(process.objects.put('b', 'k', 'v'))).to.be.instanceOf(ProcessKilled);
    expect(await rejection(process.compute('us-west-2').listInstancesPage('releng'))).to.be.instanceOf(ProcessKilled);
    expect(process.dead).to.equal(true);
    expect(cloud.calls.filter((c) => c.action === 'RunInstances')).to.have.length(1);
    expect(cloud.objects.peek('b', 'k')).to.equal(undefined);
  });

  it('killed right after a call leaves: the cloud acts on it, the process never hears back', async () => {
    const { cloud, process, launch } = world();
    void process.arm({ kind: 'kill', atCall: 1, afterSend: true });
    expect(await rejection(launch(1))).to.be.instanceOf(ProcessKilled);
    await cloud.clock.run(() => new Promise((resolve) => setTimeout(resolve, 5)));
    expect([...cloud.world.instances.values()]).to.have.length(1);
    expect(process.sent.map((s) => s.clientToken)).to.deep.equal(['t-1']);
  });

  it('ProcessKilled is no cloud error fleet would retry', () => {
    const error = classify(new ProcessKilled('dead'));
    expect(error.retryable).to.equal(false);
    expect(error.code).to.equal('ProcessKilled');
  });

  it('stalled: the call leaves at once, its answer is held until release', async () => {
    const { cloud, process, launch } = world();
    const sprung = process.arm({ kind: 'stall', atCall: 1 });
    let answered = false;
    const pending = launch(1).then((i) => {
      answered = true;
      return i;
    });
    await sprung;
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(answered).to.equal(false);
    expect(process.sent).to.have.length(1);
    process.release();
    const [instance] = await pending;
    expect(instance?.id).to.equal([...cloud.world.instances.keys()][0]);
  });

  it('a disarmed trap never springs, and a trap beyond the calls made leaves the process alive', async () => {
    const { process, launch } = world();
    void process.arm({ kind: 'kill', atCall: 1, afterSend: false });
    process.disarm();
    await launch(1);
    void process.arm({ kind: 'kill', atCall: 5, afterSend: false });
    await launch(2);
    expect(process.dead).to.equal(false);
    expect(process.callCount).to.equal(2);
  });

  it('writes down who sent each change, and the watched reads it was handed', async () => {
    const { cloud, process } = world();
    cloud.objects.publish('b', 'desired.json', '{"bld": 2}');
    await process.objects.get('b', 'desired.json');
    await process.objects.get('b', 'other.json');
    await process.objects.put('b', 'state/x.json', '{}');
    await process.compute(REGION).terminate('releng', ['i-1']);
    expect(process.deliveries.map((d) => [d.process, d.key, d.body])).to.deep.equal([['replica-a#1', 'desired.json', '{"bld": 2}']]);
    expect(process.sent.map((s) => [s.replica, s.action, s.key ?? s.instanceIds?.join()])).to.deep.equal([
      ['replica-a', 'PutObject', 'b/state/x.json'],
      ['replica-a', 'TerminateInstances', 'i-1'],
    ]);
  });
});

describe('soak harness: what the judge reads', () => {
  it('changes a pool\'s live count only on a launch or an end: not on a warning, a recommendation, or the later "gone"', () => {
    type Events = Parameters<typeof liveChanges>[0];
    const ev = (t: number, kind: string, id: string) => ({
      t,
      kind,
      instance: { id, tags: { 'fleet:managed-by': SOAK_FLEET, 'fleet:pool': 'bld' } },
    });
    const events = [
      ev(1, 'launch', 'i-1'),
      ev(2, 'running', 'i-1'),
      ev(3, 'interruption-warning', 'i-1'),
      ev(4, 'rebalance-recommendation', 'i-2'),
      ev(5, 'interrupted', 'i-1'),
      ev(6, 'gone', 'i-1'),
      ev(7, 'terminated', 'i-2'),
    ] as unknown as Events;
    expect(liveChanges(events)).to.deep.equal([
      { t: 1, pool: 'bld', delta: 1 },
      { t: 5, pool: 'bld', delta: -1 },
      { t: 7, pool: 'bld', delta: -1 },
    ]);
  });

  it('counts a pool at the moment of each termination: a replacement launched earlier in the cycle counts', () => {
    type Events = Parameters<typeof liveJustBefore>[3];
    const ev = (kind: string, id: string, pool = 'bld', fleet = SOAK_FLEET) => ({
      t: 0,
      kind,
      instance: { id, tags: { 'fleet:managed-by': fleet, 'fleet:pool': pool } },
    });
    // A price move in a turn run early: the replacement lands, then the old instance leaves, then one more.
    const events = [
      ev('launch', 'i-new'),
      ev('gone', 'i-long-gone'),
      ev('launch', 'i-other', 'tst'),
      ev('launch', 'i-foreign', 'bld', 'someone-else'),
      ev('terminated', 'i-old'),
      ev('terminated', 'i-2'),
    ] as unknown as Events;
    expect(liveJustBefore('bld', 'i-old', { bld: 3 }, events)).to.equal(4);
    expect(liveJustBefore('bld', 'i-2', { bld: 3 }, events)).to.equal(3);
    expect(liveJustBefore('bld', 'i-never-ended', { bld: 3 }, events)).to.equal(3);
    const retire = (id: string) => ({
      id,
      pool: 'bld',
      region: 'us-east-1',
      ami: 'ami-new',
      liveBefore: liveJustBefore('bld', id, { bld: 3 }, events),
    });
    const findings = checkBadManifestRetirements({
      manifestBad: true,
      lastGoodCurrent: [{ 'bld us-east-1': 'ami-new' }],
      terminated: [retire('i-old'), retire('i-2')],
      desiredLow: { bld: 3 },
    });
    expect(findings.map((f) => f.detail)).to.deep.equal([
      'bld: terminated i-2 on ami-new (current in the last good manifest) while the manifest was bad, pool not above desired',
    ]);
  });

  it('remembers an S3 fault after it has ended: it still excuses what it held up', () => {
    const windows = new FaultWindows();
    const MIN = 60_000;
    windows.openObjectFault({ kind: 'outage', bucket: 'b', keyPrefix: 'state/', from: 5 * MIN, until: 10 * MIN });
    // The cycle after it ended: the simulator no longer applies it...
    expect(windows.options(10, 10 * MIN).objectFaults).to.deep.equal([]);
    // ...but the judge still sees it for a span that overlaps it, and when it ended.
    expect(windows.objectFaultOn('b', 'state/lease.json', 4 * MIN, 11 * MIN)).to.equal(true);
    expect(windows.objectFaultEnd('b', 'state/lease.json', 4 * MIN, 11 * MIN)).to.equal(10 * MIN);
    expect(windows.objectFaultOn('b', 'state/lease.json', 10 * MIN, 11 * MIN)).to.equal(false);
    expect(windows.objectFaultOn('b', 'amis.json', 4 * MIN, 11 * MIN)).to.equal(false);
    expect(windows.objectFaultEnd('b', 'state/lease.json', 0, 5 * MIN)).to.equal(undefined);
  });

  it('tells final refusals from retryable answers and lost messages', () => {
    for (const code of ['InsufficientInstanceCapacity', 'IdempotentParameterMismatch', 'InvalidAMIID.NotFound', 'SpotMaxPriceTooLow'])
      expect(isFinalRefusal(code), code).to.equal(true);
    for (const code of ['ok', 'RequestLimitExceeded', 'InternalError', 'RequestLost', 'ResponseLost'])
      expect(isFinalRefusal(code), code).to.equal(false);
  });

  it('keeps the desired copy each process was last handed intact, and offers the last good one kept in the state store', () => {
    const ledger = new Ledger();
    ledger.publishedDesired('{"bld":2}', { bld: 2 });
    ledger.publishedDesired('{"bld":5}', { bld: 5 });
    ledger.handedOut([{ t: 1, process: 'a#1', bucket: 'b', key: 'desired.json', body: '{"bld":2}' }]);
    ledger.handedOut([{ t: 2, process: 'a#1', bucket: 'b', key: 'desired.json', body: '\u0000{"bl' }]);
    expect(ledger.copies(['a#1'], [], []).desired).to.deep.equal([{ bld: 2 }]);
    const stored = JSON.stringify({ location: 's3://b/desired.json', text: '{"bld":5}', savedAt: 0 });
    expect(ledger.copies(['a#2'], [], [stored, '\u0000garbage', undefined]).desired).to.deep.equal([{ bld: 5 }]);
    ledger.forget('a#1');
    expect(ledger.copies(['a#1'], [], []).desired).to.deep.equal([]);
  });

  it('records every stored version of drained.json and who drained what', () => {
    const ledger = new Ledger();
    ledger.storedDrained(10, JSON.stringify({ amis: { 'ami-b': { by: 'guard' }, 'ami-a': { by: 'operator' } } }));
    ledger.storedDrained(20, JSON.stringify({ amis: {} }));
    expect(ledger.drained).to.deep.equal([
      { t: 10, amis: ['ami-a', 'ami-b'] },
      { t: 20, amis: [] },
    ]);
    expect([...ledger.guardDrained]).to.deep.equal(['ami-b']);
  });

  it('calls current the newest image per pool and region that is not drained', () => {
    const images = [
      { id: 'ami-1', pool: 'bld', region: REGION, created: 1, name: '' },
      { id: 'ami-2', pool: 'bld', region: REGION, created: 2, name: '' },
      { id: 'ami-3', pool: 'tst', region: REGION, created: 1, name: '' },
    ];
    expect(currentImages(images, new Set())).to.deep.equal({ 'bld us-east-1': 'ami-2', 'tst us-east-1': 'ami-3' });
    expect(currentImages(images, new Set(['ami-2', 'ami-3']))).to.deep.equal({ 'bld us-east-1': 'ami-1' });
  });
});

describe('soak harness: the invalid manifests it publishes', () => {
  const good = [
    { id: 'ami-0aaaaaaaaaaaaaaaa', pool: 'bld', region: REGION, created: START - 7200_000, name: 'bld-1' },
    { id: 'ami-0bbbbbbbbbbbbbbbb', pool: 'bld', region: REGION, created: START - 3600_000, name: 'bld-2' },
  ];
  for (const kind of ['truncated', 'no-images', 'malformed-image', 'nothing-available'] as const) {
    it(`fleet's own parser refuses the ${kind} one (the judge counts it as bad)`, () => {
      expect(() => parseManifest(badManifest(good, kind))).to.throw(/manifest/);
    });
  }
});
