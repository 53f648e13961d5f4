import { expect } from 'chai';
import { CloudError, classify } from '../../src/cloud/errors.js';
import { guardCloud } from '../../src/cloud/guarded-cloud.js';
import { listInstances as listAll, spotPriceHistory } from '../../src/cloud/pages.js';
import type { Cloud, LaunchRequest } from '../../src/cloud/port.js';
import { launchTags } from '../../src/cloud/tags.js';
import { systemClock } from '../../src/domain/clock.js';
import type { Subnet } from '../../src/domain/types.js';
import { type ContractTarget, MUTATING, REGION, forEachTarget } from './targets.js';

const FLEET = 'contract';

forEachTarget('contract', (current) => {
  let target: ContractTarget;
  let subnets: Subnet[];
  let ami: string;

  beforeEach(async () => {
    target = current();
    await target.reset();
    subnets = await target.subnets();
    ami = await target.ami();
    target.clearCalls();
  });

  const compute = () => target.cloud().compute(REGION);
  const listInstances = (fleet: string) => listAll(compute(), fleet);
  /** One instance launched (the first of the call). */
  const launchOne = async (r: LaunchRequest) =>
    (await compute().launch(r))[0] as NonNullable<Awaited<ReturnType<ReturnType<typeof compute>['launch']>>[number]>;
  /** Retries with no waiting: the backoff's random factor is 0. */
  const guarded = (): Cloud => guardCloud(target.cloud(), { clock: systemClock, random: () => 0 });
  const request = (overrides: Partial<LaunchRequest> = {}, names = ['bld-linux64-spot-001']): LaunchRequest => ({
    fleet: FLEET,
    pool: 'bld-linux64',
    slots: names.map((name) => ({ name })),
    tags: launchTags({ fleet: FLEET, pool: 'bld-linux64', slots: names.map((name) => ({ name })) }, 'bld-linux64-spot-{nnn}'),
    region: REGION,
    az: subnets[0]?.az as string,
    subnetId: subnets[0]?.id as string,
    securityGroups: [],
    instanceType: 'c5.xlarge',
    lifecycle: 'spot',
    ami,
    clientToken: `token-${Math.random().toString(16).slice(2)}`,
    ...overrides,
  });

  it('has subnets in at least two zones and an image to launch', () => {
    expect(new Set(subnets.map((s) => s.az)).size).to.be.at.least(2);
    expect(ami).to.match(/^ami-/);
  });

  it('describes only the subnets that exist, without failing on a missing one', async () => {
    const found = await compute().describeSubnets([subnets[0]?.id as string, 'subnet-0000000000doesnotexist']);
    expect(found).to.deep.equal([subnets[0]]);
  });

  it('launches spot into a subnet with no pre-created interface, tagged at launch', async () => {
    const launched = await launchOne(request({ subnetId: subnets[1]?.id as string, az: subnets[1]?.az as string }));
    expect(launched).to.include({
      name: 'bld-linux64-spot-001',
      pool: 'bld-linux64',
      region: REGION,
      az: subnets[1]?.az,
      subnetId: subnets[1]?.id,
      lifecycle: 'spot',
      ami,
    });
    expect(launched.id).to.match(/^i-/);
    expect(launched.privateIp).to.match(/^\d+\.\d+\.\d+\.\d+$/);
    const calls = target.calls();
    expect(calls).to.include('RunInstances');
    expect(calls).not.to.include('CreateNetworkInterface');
    expect(calls.filter((c) => MUTATING.test(c))).to.deep.equal(['RunInstances']);

    const listed = await listInstances(FLEET);
    expect(listed.map((i) => [i.id, i.name, i.pool, i.lifecycle])).to.deep.equal([
      [launched.id, 'bld-linux64-spot-001', 'bld-linux64', 'spot'],
    ]);
    expect(listed[0]?.privateIp).to.equal(launched.privateIp);
    expect(listed[0]?.publicIp).to.match(/^\d+\.\d+\.\d+\.\d+$/);
  });

  it('launches on demand when asked', async () => {
    const launched = await launchOne(request({ lifecycle: 'on-demand' }));
    expect(launched.lifecycle).to.equal('on-demand');
    expect((await listInstances(FLEET))[0]?.lifecycle).to.equal('on-demand');
  });

  it('lists only instances carrying this fleet’s ownership tag', async () => {
    await target.foreignInstance(subnets[0]?.id as string, ami);
    await target.foreignInstance(subnets[0]?.id as string, ami, 'another-fleet');
    const mine = await launchOne(request());
    expect((await listInstances(FLEET)).map((i) => i.id)).to.deep.equal([mine.id]);
  });

  it('terminates only instances carrying this fleet’s ownership tag', async () => {
    const mine = await launchOne(request());
    const foreign = await target.foreignInstance(subnets[0]?.id as string, ami, 'another-fleet');
    const untagged = await target.foreignInstance(subnets[0]?.id as string, ami);
    const done = await compute().terminate(FLEET, [mine.id, foreign, untagged]);
    expect(done).to.deep.equal([mine.id]);
    const after = (await listInstances(FLEET)).find((i) => i.id === mine.id);
    expect(after?.state).to.be.oneOf(['shutting-down', 'terminated']);
    expect(after?.endCause).to.equal('user');
    expect(await listInstances('another-fleet')).to.have.length(1);
    expect((await listInstances('another-fleet'))[0]?.state).to.be.oneOf(['pending', 'running']);
  });

  it('asks only its own instances to leave: fleet:retire and fleet:retire-cause show in the listing', async () => {
    const [a, b] = await compute().launch(request({}, ['bld-linux64-spot-001', 'bld-linux64-spot-002']));
    const foreign = await target.foreignInstance(subnets[0]?.id as string, ami, 'another-fleet');
    const deadline = Date.parse('2026-11-20T13:00:00Z');
    const asked = await compute().retire(FLEET, [
      { id: a?.id as string, deadline, cause: 'scale-down' },
      { id: b?.id as string, deadline: deadline + 60_000, cause: 'rebalance' },
      { id: foreign, deadline, cause: 'scale-down' },
    ]);
    expect(asked.sort()).to.deep.equal([a?.id, b?.id].sort());
    const listed = new Map((await listInstances(FLEET)).map((i) => [i.id, i]));
    expect(listed.get(a?.id as string)).to.include({ retireAt: deadline, retireCause: 'scale-down' });
    expect(listed.get(b?.id as string)).to.include({ retireAt: deadline + 60_000, retireCause: 'rebalance' });
    expect((await listInstances('another-fleet'))[0]).to.not.have.property('retireAt');
  });

  it('reads spot prices for the asked product description only', async () => {
    const prices = await spotPriceHistory(compute(), {
      instanceTypes: ['c5.xlarge'],
      productDescription: 'Linux/UNIX',
      since: target.now(),
    });
    expect(prices.length).to.be.greaterThan(0);
    for (const p of prices) {
      expect(p).to.include({ region: REGION, instanceType: 'c5.xlarge', productDescription: 'Linux/UNIX' });
      expect(p.price).to.be.a('number').and.greaterThan(0);
    }
    expect(new Set(prices.map((p) => p.az)).size).to.be.at.least(2);
  });

  it('stores objects with conditional writes and conditional reads', async () => {
    await target.createBucket('contract-state');
    const { objects } = target.cloud();
    expect(await objects.get('contract-state', 'missing.json')).to.equal(undefined);
    const first = await objects.put('contract-state', 'doc.json', '{"v":1}', { ifNoneMatch: '*' });
    const read = await objects.get('contract-state', 'doc.json');
    expect(read).to.deep.equal({ body: '{"v":1}', etag: first.etag });
    expect(await objects.get('contract-state', 'doc.json', first.etag)).to.equal('not-modified');
    const create = await objects.put('contract-state', 'doc.json', '{"v":2}', { ifNoneMatch: '*' }).then(
      () => 'written',
      (e: unknown) => classify(e).errorClass,
    );
    expect(create).to.equal('conflict');
    const second = await objects.put('contract-state', 'doc.json', '{"v":2}', { ifMatch: first.etag });
    const stale = await objects.put('contract-state', 'doc.json', '{"v":3}', { ifMatch: first.etag }).then(
      () => 'written',
      (e: unknown) => classify(e).errorClass,
    );
    expect(stale).to.equal('conflict');
    expect(await objects.get('contract-state', 'doc.json')).to.deep.equal({ body: '{"v":2}', etag: second.etag });
  });

  it('refuses to read an object over the size asked for, and reads one at it', async () => {
    await target.createBucket('contract-state');
    const { objects } = target.cloud();
    await objects.put('contract-state', 'big.json', `"${'x'.repeat(2046)}"`);
    const outcome = await objects.get('contract-state', 'big.json', undefined, { maxBytes: 2047 }).then(
      () => 'read',
      (e: unknown) => (e as Error).message,
    );
    expect(outcome).to.equal('larger than the 2047 bytes cap');
    expect(await objects.get('contract-state', 'big.json', undefined, { maxBytes: 2048 })).to.not.equal(undefined);
  });

  it('a missing bucket is an error, not an empty object', async () => {
    const outcome = await target
      .cloud()
      .objects.get('no-such-bucket-here', 'x')
      .then(
        () => 'read',
        (e: unknown) => classify(e).errorClass,
      );
    expect(outcome).to.equal('not-found');
  });

  describe('images: the janitor’s view', () => {
    it('describes only this account’s images, with their ownership tag and snapshots', async () => {
      const golden = await target.goldenImage(FLEET, FLEET);
      const records = await compute().describeImages([golden.id, 'ami-00000000000000000']);
      expect(records).to.have.length(1);
      expect(records[0]).to.include({ id: golden.id, region: REGION, managedBy: FLEET });
      expect(records[0]?.snapshotIds).to.deep.equal([golden.snapshotId]);
    });

    it('tells which images the allowed owners own (imageOwners), a missing one left out', async () => {
      const golden = await target.goldenImage(undefined, undefined);
      expect([...(await compute().imagesOwnedBy(['self'], [golden.id, 'ami-00000000000000000']))]).to.deep.equal([golden.id]);
      expect([...(await compute().imagesOwnedBy(['111111111111'], [golden.id]))]).to.deep.equal([]);
    });

    it('tells which images any instance still uses', async () => {
      const used = await target.goldenImage(FLEET, FLEET);
      const idle = await target.goldenImage(FLEET, FLEET);
      await compute().launch(request({ ami: used.id }));
      expect([...(await compute().imagesInUse([used.id, idle.id]))]).to.deep.equal([used.id]);
    });

    it('never deregisters an image without this fleet’s ownership tag', async () => {
      const foreign = await target.goldenImage('another-fleet', 'another-fleet');
      const untagged = await target.goldenImage(undefined, undefined);
      for (const image of [foreign, untagged]) {
        expect(await compute().deregisterImage(FLEET, image.id)).to.deep.equal({ deregistered: false, snapshotsDeleted: [] });
        expect(await target.imageExists(image.id)).to.equal(true);
        expect(await target.snapshotExists(image.snapshotId)).to.equal(true);
      }
      expect(target.calls().filter((c) => c === 'DeregisterImage' || c === 'DeleteSnapshot')).to.deep.equal([]);
    });

    it('deregisters its own image and deletes its snapshot only if that is tagged too', async () => {
      const mine = await target.goldenImage(FLEET, FLEET);
      expect(await compute().deregisterImage(FLEET, mine.id)).to.deep.equal({ deregistered: true, snapshotsDeleted: [mine.snapshotId] });
      expect(await target.imageExists(mine.id)).to.equal(false);
      expect(await target.snapshotExists(mine.snapshotId)).to.equal(false);
      const loose = await target.goldenImage(FLEET, undefined);
      expect(await compute().deregisterImage(FLEET, loose.id)).to.deep.equal({ deregistered: true, snapshotsDeleted: [] });
      expect(await target.snapshotExists(loose.snapshotId)).to.equal(true);
    });
  });

  describe('errors on the wire', () => {
    it('classifies a capacity refusal and never retries it', async () => {
      target.inject({ action: 'RunInstances', code: 'InsufficientInstanceCapacity', status: 500 });
      const error = await guarded()
        .compute(REGION)
        .launch(request())
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect(error).to.be.instanceOf(CloudError);
      expect(error).to.include({ errorClass: 'capacity', code: 'InsufficientInstanceCapacity' });
      expect(target.calls().filter((c) => c === 'RunInstances')).to.have.length(1);
    });

    for (const code of ['MaxSpotInstanceCountExceeded', 'UnfulfillableCapacity', 'InsufficientFreeAddressesInSubnet']) {
      it(`classifies ${code} as capacity`, async () => {
        target.inject({ action: 'RunInstances', code, status: code === 'InsufficientFreeAddressesInSubnet' ? 400 : 500 });
        const error = await compute()
          .launch(request())
          .then(
            () => undefined,
            (e: unknown) => classify(e),
          );
        expect(error).to.include({ errorClass: 'capacity', code });
      });
    }

    it('retries throttling with backoff until the call goes through', async () => {
      target.inject({ action: 'RunInstances', code: 'RequestLimitExceeded', status: 503, times: 2 });
      const [launched] = await guarded().compute(REGION).launch(request());
      if (!launched) throw new Error('nothing launched');
      expect(launched.id).to.match(/^i-/);
      expect(target.calls().filter((c) => c === 'RunInstances')).to.have.length(3);
      expect((await listInstances(FLEET)).map((i) => i.id)).to.deep.equal([launched.id]);
    });

    it('retries server errors on reads', async () => {
      target.inject({ action: 'DescribeInstances', code: 'InternalError', status: 500, times: 1 });
      await listAll(guarded().compute(REGION), FLEET);
      expect(target.calls().filter((c) => c === 'DescribeInstances')).to.have.length(2);
    });

    it('gives up after the last attempt with a throttled error, never a crash', async () => {
      target.inject({ action: 'DescribeInstances', code: 'RequestLimitExceeded', status: 503 });
      const error = await listAll(guarded().compute(REGION), FLEET).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).to.be.instanceOf(CloudError);
      expect((error as CloudError).errorClass).to.equal('throttled');
    });

    it('classifies permission errors', async () => {
      target.inject({ action: 'RunInstances', code: 'UnauthorizedOperation', status: 403 });
      const error = await compute()
        .launch(request())
        .then(
          () => undefined,
          (e: unknown) => classify(e),
        );
      expect(error?.errorClass).to.equal('permission');
    });
  });

  it('a repeated launch with the same client token never doubles capacity (where the cloud honours tokens)', async function () {
    if (!target.honoursClientToken) {
      console.log('      (moto does not honour ClientToken; the simulated cloud and EC2 do)');
      this.skip();
    }
    const r = request({ clientToken: 'fixed-token-1' });
    const first = await launchOne(r);
    const again = await launchOne(r);
    expect(again.id).to.equal(first.id);
    expect(await listInstances(FLEET)).to.have.length(1);
    const mismatch = await compute()
      .launch({ ...r, instanceType: 'm5.xlarge' })
      .then(
        () => undefined,
        (e: unknown) => classify(e),
      );
    expect(mismatch).to.include({ code: 'IdempotentParameterMismatch', errorClass: 'invalid' });
    // Every parameter counts, not only where and what: another security group is another request.
    const otherGroups = await compute()
      .launch({ ...r, securityGroups: ['sg-other'] })
      .then(
        () => undefined,
        (e: unknown) => classify(e),
      );
    expect(otherGroups).to.include({ code: 'IdempotentParameterMismatch' });
  });

  it('a batch launch names every instance: Name at once for one, fleet:names by launch index for many', async () => {
    const names = ['bld-linux64-spot-001', 'bld-linux64-spot-002', 'bld-linux64-spot-003', 'bld-linux64-spot-004', 'bld-linux64-spot-005'];
    const launched = await compute().launch(request({}, names));
    expect(launched.map((i) => i.launchIndex)).to.deep.equal([0, 1, 2, 3, 4]);
    expect(launched.map((i) => i.name)).to.deep.equal(names);
    const listed = await listInstances(FLEET);
    expect(listed.map((i) => i.name).sort()).to.deep.equal(names);
    // Listed without Name: the service knows to set it (a later cycle, when naming right after failed).
    expect(listed.map((i) => i.nameTagMissing)).to.deep.equal(names.map(() => true));
    expect(target.calls().filter((c) => c === 'RunInstances')).to.have.length(1);
    for (const i of launched) await compute().nameInstance(i.id, { name: i.name });
    const named = await listInstances(FLEET);
    expect(named.map((i) => i.name).sort()).to.deep.equal(names);
    expect(named.filter((i) => i.nameTagMissing !== undefined)).to.deep.equal([]);
  });

  it('a replacement carries what it replaces and why, by launch index, when launched, listed and named', async () => {
    const slots = [
      { name: 'bld-linux64-spot-001' },
      { name: 'bld-linux64-spot-002', replaces: 'i-0000000000000aaaa', cause: 'outdated' as const },
      { name: 'bld-linux64-spot-003', replaces: 'i-0000000000000bbbb', cause: 'on-demand-swap' as const },
    ];
    const r = {
      ...request(
        {},
        slots.map((s) => s.name),
      ),
      slots,
      tags: launchTags({ fleet: FLEET, pool: 'bld-linux64', slots }, 'bld-linux64-spot-{nnn}'),
    };
    const pairs = (list: readonly { name: string; replaces?: string; cause?: string }[]) =>
      list.map((i) => [i.name, i.replaces, i.cause]).sort();
    const expected = slots.map((s) => [s.name, s.replaces, s.cause]).sort();
    expect(pairs(await compute().launch(r))).to.deep.equal(expected);
    const listed = await listInstances(FLEET);
    expect(pairs(listed)).to.deep.equal(expected);
    for (const i of listed) await compute().nameInstance(i.id, slots.find((s) => s.name === i.name) as (typeof slots)[number]);
    expect(pairs(await listInstances(FLEET))).to.deep.equal(expected);
  });
});
