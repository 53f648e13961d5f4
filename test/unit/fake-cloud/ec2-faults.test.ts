import { expect } from 'chai';
import fc from 'fast-check';
import { CloudError, classify } from '../../../src/cloud/errors.js';
import type { LaunchRequest } from '../../../src/cloud/port.js';
import { CorruptStateError, ObjectStateStore } from '../../../src/shared/state-store.js';
import { SimCloud } from '../../../src/fake-cloud/cloud.js';
import { FaultInjector, NO_FAULTS } from '../../../src/fake-cloud/faults.js';
import { Prng } from '../../../src/fake-cloud/prng.js';
import { garble } from '../../../src/fake-cloud/s3.js';
import { ImagePipeline } from '../../../src/sim/workload.js';
import { policy } from '../../support/builders.js';

const START = Date.parse('2026-11-20T10:00:00Z');
const REGION = 'us-east-1';

function cloudWith(faults: ConstructorParameters<typeof SimCloud>[0]['faults'] = {}): {
  cloud: SimCloud;
  request: (overrides?: Partial<LaunchRequest>) => LaunchRequest;
} {
  const cloud = new SimCloud({ seed: 5, start: START, defaultSubnets: [REGION], faults });
  const image = cloud.world.registerImage(REGION, 'golden', START - 86_400_000);
  const subnet = [...cloud.world.subnets.values()][0];
  const request = (overrides: Partial<LaunchRequest> = {}): LaunchRequest => ({
    fleet: 'releng',
    pool: 'bld-linux64',
    slots: [{ name: 'bld-linux64-001' }],
    tags: { 'fleet:managed-by': 'releng', 'fleet:pool': 'bld-linux64', Name: 'bld-linux64-001' },
    region: REGION,
    az: subnet?.az as string,
    subnetId: subnet?.id as string,
    securityGroups: ['sg-1'],
    instanceType: 'c5.xlarge',
    lifecycle: 'spot',
    ami: image.id,
    clientToken: 'token-1',
    keyName: 'releng',
    userData: '#cloud-config name: bld-linux64-001',
    ...overrides,
  });
  return { cloud, request };
}

async function failure(p: Promise<unknown>): Promise<CloudError> {
  try {
    await p;
  } catch (e) {
    return classify(e);
  }
  expect.fail('expected the call to fail');
}

const instancesOf = (cloud: SimCloud) => [...cloud.world.instances.values()];
const runCalls = (cloud: SimCloud) => cloud.calls.filter((c) => c.action === 'RunInstances');

describe('simulated EC2: lost launches and strict idempotency', () => {
  it('records the AMI, the client token and a hash of every parameter of each RunInstances', async () => {
    const { cloud, request } = cloudWith();
    const r = request();
    await cloud.compute(REGION).launch(r);
    const [call] = runCalls(cloud);
    expect(call?.detail).to.include({ ami: r.ami, clientToken: 'token-1' });
    expect(call?.detail?.params).to.be.a('string').with.length(16);
  });

  it('a lost request makes nothing, and the caller gets a retryable network error', async () => {
    const { cloud, request } = cloudWith({ lostLaunchRequests: 1 });
    const error = await failure(cloud.compute(REGION).launch(request()));
    expect(error.errorClass).to.equal('transient');
    expect(error.httpStatus).to.equal(undefined);
    expect(instancesOf(cloud)).to.have.length(0);
    expect(runCalls(cloud).map((c) => c.result)).to.deep.equal(['RequestLost']);
  });

  it('a lost answer still makes the instance; the same token then returns it instead of a second one', async () => {
    const { cloud, request } = cloudWith({ lostLaunchResponses: 1 });
    const error = await failure(cloud.compute(REGION).launch(request()));
    expect(error.errorClass).to.equal('transient');
    expect(instancesOf(cloud)).to.have.length(1);
    const made = instancesOf(cloud)[0]?.id;
    expect(runCalls(cloud)[0]).to.deep.include({ result: 'ResponseLost' });
    expect(runCalls(cloud)[0]?.detail?.instanceIds).to.deep.equal([made]);
    cloud.faults.update({ lostLaunchResponses: 0 });
    const [again] = await cloud.compute(REGION).launch(request());
    expect(again?.id).to.equal(made);
    expect(instancesOf(cloud)).to.have.length(1);
    expect(runCalls(cloud)[1]?.detail).to.include({ replayed: true });
    expect(runCalls(cloud)[1]?.detail?.instanceIds).to.deep.equal([made]);
  });

  it('with no loss configured, nothing is lost (and no random draw changes other runs)', async () => {
    const { cloud, request } = cloudWith({ enforceRateLimits: false });
    for (let n = 1; n <= 20; n++)
      await cloud.compute(REGION).launch(request({ clientToken: `t-${n}`, slots: [{ name: `bld-linux64-${n}` }] }));
    expect(runCalls(cloud).every((c) => c.result === 'ok')).to.equal(true);
  });

  for (const [what, change] of [
    ['security groups', { securityGroups: ['sg-2'] }],
    ['key name', { keyName: 'other' }],
    ['user data', { userData: '#cloud-config changed' }],
    ['instance profile', { instanceProfile: 'worker' }],
    ['max price', { maxPrice: 0.5 }],
  ] as const) {
    it(`refuses a client token reused with other ${what} (IdempotentParameterMismatch), as EC2 does`, async () => {
      const { cloud, request } = cloudWith();
      await cloud.compute(REGION).launch(request());
      const error = await failure(cloud.compute(REGION).launch(request(change)));
      expect(error.code).to.equal('IdempotentParameterMismatch');
      expect(error.retryable).to.equal(false);
      expect(instancesOf(cloud)).to.have.length(1);
    });
  }

  it('a request lost before EC2 saw it leaves the token free: a resend with other parameters launches', async () => {
    const { cloud, request } = cloudWith({ lostLaunchRequests: 1 });
    await failure(cloud.compute(REGION).launch(request()));
    cloud.faults.update({ lostLaunchRequests: 0 });
    await cloud.compute(REGION).launch(request({ securityGroups: ['sg-2'] }));
    expect(instancesOf(cloud)).to.have.length(1);
  });
});

describe('simulated S3: outages, corrupt reads, and writes as stored', () => {
  const bucket = 'fleet-test';

  it('an outage answers 503 to reads and writes of matching keys until it ends; other keys are unaffected', async () => {
    const { cloud } = cloudWith({ objectFaults: [{ kind: 'outage', bucket, keyPrefix: 'state/', until: START + 60_000 }] });
    cloud.objects.createBucket(bucket);
    cloud.objects.publish(bucket, 'state/a.json', '{}');
    const read = await failure(cloud.objects.get(bucket, 'state/a.json'));
    expect([read.code, read.httpStatus, read.errorClass]).to.deep.equal(['ServiceUnavailable', 503, 'transient']);
    expect((await failure(cloud.objects.put(bucket, 'state/b.json', '{}'))).httpStatus).to.equal(503);
    expect(await cloud.objects.get(bucket, 'amis.json')).to.equal(undefined);
    await cloud.objects.put(bucket, 'amis.json', '{}');
    cloud.clock.advanceTo(START + 60_000);
    expect(await cloud.objects.get(bucket, 'state/a.json')).to.deep.include({ body: '{}' });
  });

  it('a window may open later than now', async () => {
    const { cloud } = cloudWith({ objectFaults: [{ kind: 'outage', bucket, keyPrefix: '', from: START + 10_000, until: START + 20_000 }] });
    cloud.objects.createBucket(bucket);
    await cloud.objects.put(bucket, 'k', 'v');
    cloud.clock.advanceTo(START + 10_000);
    expect((await failure(cloud.objects.get(bucket, 'k'))).httpStatus).to.equal(503);
  });

  it('a corrupt read returns a garbled body under the real etag; the stored object is intact', async () => {
    const { cloud } = cloudWith({ objectFaults: [{ kind: 'corrupt', bucket, keyPrefix: 'desired.json', until: START + 60_000 }] });
    cloud.objects.createBucket(bucket);
    const { etag } = await cloud.objects.put(bucket, 'desired.json', '{"bld-linux64": 3}');
    const got = await cloud.objects.get(bucket, 'desired.json');
    expect(got).to.not.equal('not-modified');
    const object = got as { body: string; etag: string };
    expect(object.etag).to.equal(etag);
    expect(() => JSON.parse(object.body)).to.throw(SyntaxError);
    expect(cloud.objects.log.at(-1)).to.deep.include({ result: 'ok', corrupt: true });
    expect(cloud.objects.peek(bucket, 'desired.json')?.body).to.equal('{"bld-linux64": 3}');
    // An unchanged object is not sent again, so nothing can be garbled on the way.
    expect(await cloud.objects.get(bucket, 'desired.json', etag)).to.equal('not-modified');
    cloud.clock.advanceTo(START + 60_000);
    expect(await cloud.objects.get(bucket, 'desired.json')).to.deep.include({ body: '{"bld-linux64": 3}' });
  });

  it('a corrupt state document makes the state store throw on read (the fleet must cope with that)', async () => {
    const { cloud } = cloudWith({ objectFaults: [{ kind: 'corrupt', bucket, keyPrefix: 'state/', until: START + 60_000 }] });
    cloud.objects.createBucket(bucket);
    const store = new ObjectStateStore(cloud.objects, bucket, 'state/');
    await store.write('reconciler.json', { n: 1 }, undefined);
    let thrown: unknown;
    await store.read('reconciler.json').catch((e: unknown) => {
      thrown = e;
    });
    expect(thrown).to.be.instanceOf(CorruptStateError);
    expect((thrown as Error).message).to.match(/^state s3:\/\/fleet-test\/state\/reconciler\.json is malformed: not JSON/);
  });

  it('garbled text never parses as JSON, whatever it was', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expect(() => JSON.parse(garble(JSON.stringify(value, null, 1)))).to.throw(SyntaxError);
      }),
    );
  });

  it('tells onWrite of every object stored through put, and of nothing refused', async () => {
    const { cloud } = cloudWith();
    cloud.objects.createBucket(bucket);
    const seen: string[] = [];
    cloud.objects.onWrite = (b, key, body) => seen.push(`${b}/${key}=${body}`);
    await cloud.objects.put(bucket, 'a', '1', { ifNoneMatch: '*' });
    await cloud.objects.put(bucket, 'a', '2', { ifNoneMatch: '*' }).catch(() => undefined);
    cloud.objects.publish(bucket, 'b', '3');
    expect(seen).to.deep.equal([`${bucket}/a=1`]);
  });
});

describe('simulated image pipeline: bake period', () => {
  it('bakes every night by default, and every periodHours when asked', () => {
    const bld = policy({ regions: { [REGION]: { subnets: ['subnet-a'], securityGroups: [] } } });
    const nightly = new ImagePipeline(new SimCloud({ seed: 1, start: START }).world, [bld], [REGION]);
    const often = new ImagePipeline(new SimCloud({ seed: 1, start: START }).world, [bld], [REGION], 3);
    const bakes = (p: ImagePipeline) => {
      let n = 0;
      for (let t = START; t < START + 24 * 3600_000; t += 60_000) if (p.tick(t)) n++;
      return n;
    };
    // The first tick bakes (the night before the start has not been baked); then one a day, or one every 3 h.
    expect(bakes(nightly)).to.equal(2);
    expect(bakes(often)).to.equal(8);
    expect(often.images().map((i) => i.image.created % (3 * 3600_000))).to.satisfy((mods: number[]) => new Set(mods).size === 1);
  });
});

describe('simulated EC2: request buckets per API, as EC2 keeps them', () => {
  it('an API that used up its bucket is throttled; another of the same kind is not', () => {
    const clock = { now: () => START } as unknown as ConstructorParameters<typeof FaultInjector>[2];
    const faults = new FaultInjector(NO_FAULTS, new Prng(1), clock);
    for (let n = 0; n < 200; n++) faults.check(REGION, 'CreateTags');
    expect(() => faults.check(REGION, 'CreateTags'))
      .to.throw()
      .with.property('name', 'RequestLimitExceeded');
    expect(() => faults.check(REGION, 'TerminateInstances', {}, 1)).to.not.throw();
    expect(() => faults.check('us-west-2', 'CreateTags')).to.not.throw();
  });
});

describe('simulated EC2: a termination that fails at its ownership check', () => {
  it('is recorded as the termination it was for, so the calls log shows a failed termination', async () => {
    const { cloud, request } = cloudWith({
      scripted: [
        { action: 'DescribeInstances', code: 'RequestLimitExceeded', status: 503, when: (d) => d.ownershipCheckFor !== undefined },
      ],
    });
    const [made] = await cloud.compute(REGION).launch(request());
    const error = await failure(cloud.compute(REGION).terminate('releng', [made?.id as string]));
    expect(error.code).to.equal('RequestLimitExceeded');
    const failed = cloud.calls.filter((c) => c.result !== 'ok');
    expect(failed.map((c) => [c.action, c.result, c.detail?.ownershipCheckFor, c.detail?.instanceIds])).to.deep.equal([
      ['DescribeInstances', 'RequestLimitExceeded', 'TerminateInstances', [made?.id]],
    ]);
    expect(instancesOf(cloud)[0]?.state).to.not.equal('shutting-down');
  });
});
