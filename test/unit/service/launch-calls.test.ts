import { expect } from 'chai';
import fc from 'fast-check';
import type { LaunchRequest } from '../../../src/cloud/port.js';
import { NAMES_TAG } from '../../../src/cloud/tags.js';
import type { LaunchAction } from '../../../src/domain/actions.js';
import { decodeNames } from '../../../src/policy/names.js';
import { buildRequest, growingBatches, launchCalls, userDataDigest } from '../../../src/service/launch-calls.js';
import { T0, policy } from '../../support/builders.js';

const POOL = policy({
  pool: 'ramp',
  names: 'ramp-{nnnn}',
  size: { min: 0, max: 2000 },
  userData: '#cloud-config\npool: {pool}\nregion: {region}\naz: {az}\n',
});

function slot(n: number, overrides: Partial<LaunchAction> = {}): LaunchAction {
  return {
    kind: 'launch',
    pool: 'ramp',
    region: 'us-east-1',
    az: 'us-east-1b',
    subnetId: 'subnet-b',
    instanceType: 'c5.xlarge',
    lifecycle: 'spot',
    ami: 'ami-new',
    name: `ramp-${String(n).padStart(4, '0')}`,
    cause: 'scale-up',
    reason: 'scale-up',
    ...overrides,
  };
}

const slots = (from: number, to: number, overrides: Partial<LaunchAction> = {}) =>
  Array.from({ length: to - from + 1 }, (_, k) => slot(from + k, overrides));

function calls(
  actions: readonly LaunchAction[],
  over: { policy?: typeof POOL; capacity?: number; journaled?: Record<string, LaunchRequest> } = {},
) {
  const p = over.policy ?? POOL;
  return launchCalls(actions, {
    fleet: 'releng',
    policies: new Map([[p.pool, p]]),
    journaled: (token) => journaledAs(over.journaled?.[token]),
    now: T0,
    ...(over.capacity !== undefined ? { launchCapacity: () => over.capacity as number } : {}),
  });
}

/** A request as the journal keeps it: without its user data, with the digest of that. */
function journaledAs(request: LaunchRequest | undefined) {
  if (!request) return undefined;
  const { userData, ...kept } = request;
  return { request: kept, ...(userData !== undefined ? { userDataSha256: userDataDigest(userData) } : {}) };
}

describe('launch calls: growing all-or-nothing batches', () => {
  it('1,000 slots of one offer go in 10 calls of 1, 2, 4, ... 256 and the remaining 489', () => {
    const sizes = growingBatches(
      Array.from({ length: 1000 }, (_, k) => k),
      () => true,
    ).map((b) => b.length);
    expect(sizes).to.deep.equal([1, 2, 4, 8, 16, 32, 64, 128, 256, 489]);
  });

  it('property: batches keep every item once, in order; each fits; none is more than twice the one before', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 3000 }), fc.integer({ min: 1, max: 600 }), (n, most) => {
        const items = Array.from({ length: n }, (_, k) => k);
        const batches = growingBatches(items, (b) => b.length <= most);
        expect(batches.flat()).to.deep.equal(items);
        for (const [k, b] of batches.entries()) {
          expect(b.length).to.be.at.most(Math.max(1, most));
          if (k > 0) expect(b.length).to.be.at.most(2 * (batches[k - 1] as number[]).length);
        }
        expect(batches[0]).to.have.length(1);
      }),
    );
  });

  it('user data without {name} batches: one request per batch, MaxCount = MinCount = its slots, fleet:names by launch index', () => {
    const { calls: out, deferred, unsendable } = calls(slots(1, 1000));
    expect(out).to.have.length(10);
    expect(deferred).to.deep.equal([]);
    expect(unsendable).to.deep.equal([]);
    for (const call of out) {
      expect(call.request.slots.map((s) => s.name)).to.deep.equal(call.actions.map((a) => a.name));
      expect(call.request.minCount ?? call.request.slots.length).to.equal(call.request.slots.length);
      if (call.actions.length > 1)
        expect(decodeNames(call.request.tags[NAMES_TAG] as string)).to.deep.equal(call.actions.map((a) => a.name));
      else expect(call.request.tags.Name).to.equal(call.actions[0]?.name);
      // {pool}, {region} and {az} are the same for every instance of the call.
      expect(call.request.userData).to.equal('#cloud-config\npool: ramp\nregion: us-east-1\naz: us-east-1b\n');
    }
    expect(new Set(out.map((c) => c.request.clientToken)).size).to.equal(10);
  });

  it('user data with {name} makes every launch its own call', () => {
    const named = policy({ pool: 'ramp', names: 'ramp-{nnnn}', userData: 'hostname: {name}\n' });
    const { calls: out } = calls(slots(1, 20), { policy: named });
    expect(out.map((c) => c.request.slots.length)).to.deep.equal(Array(20).fill(1));
    expect(out.map((c) => c.request.userData)).to.deep.equal(slots(1, 20).map((s) => `hostname: ${s.name}\n`));
  });

  it('other offers, images or lifecycles never share a call', () => {
    const mixed = [
      ...slots(1, 3),
      ...slots(4, 6, { subnetId: 'subnet-c', az: 'us-east-1c' }),
      ...slots(7, 9, { ami: 'ami-other' }),
      ...slots(10, 12, { lifecycle: 'on-demand' }),
    ];
    const { calls: out } = calls(mixed);
    expect(out.map((c) => c.request.slots.length)).to.deep.equal([1, 2, 1, 2, 1, 2, 1, 2]);
    for (const call of out) expect(new Set(call.actions.map((a) => `${a.subnetId} ${a.ami} ${a.lifecycle}`)).size).to.equal(1);
  });

  it('a batch is cut short where its names would not fit in a tag value (256 characters)', () => {
    // Every other slot: no runs, so each name costs its own number in fleet:names.
    const scattered = Array.from({ length: 300 }, (_, k) => slot(1001 + 2 * k));
    const { calls: out } = calls(scattered);
    expect(out.flatMap((c) => c.actions)).to.deep.equal(scattered);
    for (const call of out) for (const value of Object.values(call.request.tags)) expect(value.length).to.be.at.most(256);
    expect(Math.max(...out.map((c) => c.actions.length))).to.be.below(64);
  });

  it('never asks for more instances than the launch bucket holds now: the rest are deferred, never waited for', () => {
    const { calls: out, deferred } = calls(slots(1, 1000), { capacity: 300 });
    expect(out.reduce((n, c) => n + c.actions.length, 0)).to.equal(300);
    expect(deferred.map((a) => a.name)).to.deep.equal(slots(301, 1000).map((a) => a.name));
  });

  it('a resumed call goes out exactly as journaled, first, and counts against the launch bucket', () => {
    const first = buildRequest(slots(1, 4), POOL, 'releng', T0 - 60_000, 0);
    const resumed = slots(1, 4, { resumes: first.clientToken }).reverse();
    const {
      calls: out,
      deferred,
      userDataChanged,
    } = calls([...resumed, ...slots(5, 10)], { capacity: 6, journaled: { [first.clientToken]: first } });
    // Its user data, not journaled, rendered again from the policy: the very request first sent.
    expect(out[0]?.request).to.deep.equal(first);
    expect(userDataChanged).to.deep.equal([]);
    expect(out[0]?.resend).to.equal(true);
    expect(out[0]?.actions.map((a) => a.name)).to.deep.equal(first.slots.map((s) => s.name));
    expect(out.slice(1).reduce((n, c) => n + c.actions.length, 0)).to.equal(2);
    expect(deferred).to.have.length(4);
  });

  it('a resumed call whose user data the policy no longer renders as sent is not re-sent under its token', () => {
    const first = buildRequest(slots(1, 2), POOL, 'releng', T0 - 60_000, 0);
    const edited = { ...POOL, userData: '#cloud-config\nedited: true\n' };
    const {
      calls: out,
      unsendable,
      userDataChanged,
    } = calls(slots(1, 2, { resumes: first.clientToken }), { policy: edited, journaled: { [first.clientToken]: first } });
    expect(out).to.deep.equal([]);
    expect(unsendable.map((u) => u.action.name)).to.deep.equal(['ramp-0001', 'ramp-0002']);
    expect(unsendable[0]?.why).to.match(/user data changed/);
    expect(userDataChanged).to.deep.equal([first.clientToken]);
    const { userData: _dropped, ...withoutUserData } = POOL;
    expect(
      calls(slots(1, 2, { resumes: first.clientToken }), { policy: withoutUserData, journaled: { [first.clientToken]: first } })
        .userDataChanged,
      'user data removed',
    ).to.deep.equal([first.clientToken]);
  });

  it('a resumed slot whose call is not journaled whole is not sent', () => {
    const { calls: out, unsendable } = calls([slot(1, { resumes: 'fleet-lost' })]);
    expect(out).to.deep.equal([]);
    expect(unsendable.map((u) => u.action.name)).to.deep.equal(['ramp-0001']);
  });
});
