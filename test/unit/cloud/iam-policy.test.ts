import { expect } from 'chai';
import { Ec2Compute } from '../../../src/cloud/aws/ec2.js';
import { AwsPriceList } from '../../../src/cloud/aws/pricing.js';
import { S3Objects } from '../../../src/cloud/aws/s3.js';
import { SqsEventQueue } from '../../../src/cloud/aws/sqs.js';
import type { LaunchRequest } from '../../../src/cloud/port.js';
import { launchTags } from '../../../src/cloud/tags.js';
import { ACCOUNT, FakeAccount, type RecordedCall } from '../../support/aws-recorder.js';
import { type AuthRequest, type Policy, evaluate, loadPolicy } from '../../support/iam.js';
import { authorizationsOf } from '../../support/iam-authorization.js';
import { policy } from '../../support/builders.js';
import { BUCKET, SimFleet } from '../../support/sim-fleet.js';

const FLEET = 'releng';
const REGION = 'us-east-1';
const SERVICE = loadPolicy('policies/iam/fleet-service.json');

describe('IAM policy evaluator', () => {
  const policy = (statements: Policy['Statement']): Policy => ({ Version: '2012-10-17', Statement: statements });
  const request = (context: AuthRequest['context'] = {}): AuthRequest => ({
    action: 'ec2:CreateTags',
    resource: 'arn:aws:ec2:us-east-1:1:instance/i-1',
    context,
  });

  it('allows only what a statement matches, and an explicit deny wins', () => {
    const allow = { Effect: 'Allow' as const, Action: 'ec2:Create*', Resource: 'arn:aws:ec2:*:*:instance/*' };
    expect(evaluate(policy([allow]), request()).allowed).to.equal(true);
    expect(evaluate(policy([allow]), { ...request(), resource: 'arn:aws:ec2:us-east-1:1:volume/v-1' }).allowed).to.equal(false);
    expect(evaluate(policy([allow, { Effect: 'Deny', Action: '*', Resource: '*' }]), request())).to.deep.include({
      allowed: false,
      why: 'explicit deny',
    });
  });

  it('judges conditions as IAM does: absent keys, multivalued keys, Null, policy variables', () => {
    const managed = { StringEquals: { 'aws:ResourceTag/fleet:managed-by': 'releng' } };
    const onlyRetire = { 'ForAllValues:StringEquals': { 'aws:TagKeys': ['fleet:retire'] } };
    const p = (condition: object) => policy([{ Effect: 'Allow', Action: '*', Resource: '*', Condition: condition as never }]);
    expect(evaluate(p(managed), request()).allowed, 'absent resource tag').to.equal(false);
    expect(evaluate(p(managed), request({ 'aws:ResourceTag/fleet:managed-by': 'releng' })).allowed).to.equal(true);
    expect(evaluate(p(onlyRetire), request()).allowed, 'ForAllValues of an absent key holds').to.equal(true);
    expect(evaluate(p({ ...onlyRetire, Null: { 'aws:TagKeys': 'false' } }), request()).allowed).to.equal(false);
    expect(evaluate(p(onlyRetire), request({ 'aws:TagKeys': ['fleet:retire', 'Name'] })).allowed).to.equal(false);
    expect(
      evaluate(p({ StringEquals: { 'ec2:Owner': '${aws:PrincipalAccount}' } }), request({ 'ec2:Owner': '7', 'aws:PrincipalAccount': '7' }))
        .allowed,
    ).to.equal(true);
    expect(
      evaluate(p({ StringEquals: { 'ec2:Owner': '${aws:PrincipalAccount}' } }), request({ 'ec2:Owner': '8', 'aws:PrincipalAccount': '7' }))
        .allowed,
    ).to.equal(false);
    expect(() => evaluate(p({ NumericLessThanEquals: { 'x:y': '1' } }), request({ 'x:y': '1' }))).to.throw(/not known/);
  });
});

/** Every method of the AWS adapter's EC2 side, driven once against the fake account. */
const EC2_DRIVERS: Record<string, (c: Ec2Compute, account: FakeAccount) => Promise<unknown>> = {
  listInstancesPage: (c) => c.listInstancesPage(FLEET),
  describeSubnets: (c) => c.describeSubnets(['subnet-1']),
  spotPriceHistoryPage: (c) => c.spotPriceHistoryPage({ instanceTypes: ['c5.large'], productDescription: 'Linux/UNIX', since: 0 }),
  launch: async (c) => {
    await c.launch(launchRequest(['bld-linux64-spot-001']));
    await c.launch(launchRequest(['bld-linux64-spot-002', 'bld-linux64-spot-003'], 'i-0ld'));
  },
  nameInstance: async (c, account) => {
    const batched = [...account.instances.values()].find((i) => i.tags['fleet:names'] !== undefined && i.tags.Name === undefined);
    await c.nameInstance(batched?.id as string, { name: 'bld-linux64-spot-002', replaces: 'i-0ld' });
  },
  terminate: async (c, account) => {
    const foreign = account.instance({ Name: 'not-ours' });
    const own = account.instance({ 'fleet:managed-by': FLEET, 'fleet:pool': 'bld-linux64', Name: 'bld-linux64-spot-009' });
    await c.terminate(FLEET, [own.id, foreign.id]);
  },
  retire: async (c, account) => {
    const own = account.instance({ 'fleet:managed-by': FLEET, 'fleet:pool': 'bld-linux64', Name: 'bld-linux64-spot-010' });
    await c.retire(FLEET, [{ id: own.id, deadline: Date.UTC(2026, 11, 6, 21), cause: 'scale-down' }]);
  },
  describeImages: (c) => c.describeImages(['ami-own', 'ami-foreign']),
  imagesOwnedBy: async (c) => expect([...(await c.imagesOwnedBy(['self'], ['ami-own', 'ami-foreign']))]).to.deep.equal(['ami-own']),
  imagesInUse: (c) => c.imagesInUse(['ami-own']),
  deregisterImage: (c) => c.deregisterImage(FLEET, 'ami-old'),
};

function launchRequest(names: readonly string[], replaces?: string): LaunchRequest {
  const slots = names.map((name, n) => ({ name, ...(n === 0 && replaces ? { replaces } : {}) }));
  return {
    fleet: FLEET,
    pool: 'bld-linux64',
    region: REGION,
    az: 'us-east-1a',
    subnetId: 'subnet-1',
    securityGroups: ['sg-1'],
    instanceType: 'c5.large',
    lifecycle: 'spot',
    ami: 'ami-own',
    keyName: 'releng',
    instanceProfile: 'bld-worker',
    userData: '#!/bin/sh\n',
    clientToken: `fleet-${names.join('-')}`,
    slots,
    tags: launchTags({ fleet: FLEET, pool: 'bld-linux64', slots }, 'bld-linux64-spot-{nnn}'),
  };
}

function freshAccount(): FakeAccount {
  const account = new FakeAccount();
  account.image('ami-own', ACCOUNT, {});
  account.image('ami-old', ACCOUNT, { 'fleet:managed-by': FLEET });
  account.image('ami-foreign', '999999999999', {});
  return account;
}

/** The calls each denied, with why, as lines (empty when the policy grants every one). */
function denials(policy: Policy, account: FakeAccount, calls: readonly RecordedCall[]): string[] {
  const imageOwner = (id: string) => account.images.get(id)?.ownerId;
  return calls.flatMap((call) =>
    authorizationsOf(call, { imageOwner }).flatMap((r) => {
      const decision = evaluate(policy, r);
      return decision.allowed ? [] : [`${r.call}: ${r.action} on ${r.resource} (${decision.why}) with ${JSON.stringify(r.context)}`];
    }),
  );
}

describe('IAM: fleet-service.json grants every call the service makes', () => {
  it('drives every method of the EC2 adapter (a new one must be driven here)', () => {
    const methods = Object.getOwnPropertyNames(Ec2Compute.prototype).filter((m) => m !== 'constructor');
    expect(Object.keys(EC2_DRIVERS).sort()).to.deep.equal(methods.sort());
  });

  it('grants each EC2 call with its resources, request tags and resource tags', async () => {
    const account = freshAccount();
    const compute = new Ec2Compute(REGION, account.ec2(REGION));
    for (const drive of Object.values(EC2_DRIVERS)) await drive(compute, account);
    const commands = new Set(account.calls.map((c) => c.command));
    // What the drivers must have made the adapter send, for this check to mean anything.
    for (const c of ['RunInstances', 'CreateTags', 'TerminateInstances', 'DeregisterImage', 'DeleteSnapshot', 'DescribeImages'])
      expect(commands).to.include(c);
    expect(denials(SERVICE, account, account.calls)).to.deep.equal([]);
  });

  it('grants the state store, the inputs, the event queue and the price list', async () => {
    const account = freshAccount();
    const objects = new S3Objects(account.s3(REGION, () => ({ Body: { transformToString: async () => '{}' }, ETag: '"1"' })));
    for (const key of ['state/reconciler.json', 'state/drained.json', 'state/images.json', 'state/leader.json']) {
      await objects.get('releng-fleet-control', key);
      await objects.put('releng-fleet-control', key, '{}', { ifMatch: '"1"' });
    }
    await objects.get('releng-golden-amis', 'amis.json');
    await objects.get('releng-fleet-control', 'desired.json');
    const queue = new SqsEventQueue(
      `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/fleet-ec2-events`,
      account.sqs(REGION, () => ({ Messages: [], Failed: [] })),
    );
    await queue.receive(0);
    await queue.delete(['h1']);
    await new AwsPriceList(account.pricing(() => ({ PriceList: [] }))).onDemandPrices(REGION, ['c5.large'], 'Linux/UNIX');
    expect(denials(SERVICE, account, account.calls)).to.deep.equal([]);
  });
});

describe('IAM: fleet-service.json grants every object the service reads and writes', () => {
  it('in a run of the service (rollout, guard, drains, journal, inputs), as deployed on S3', async () => {
    const fleet = new SimFleet({ policies: [policy({ userData: '#cloud-config\n' })] });
    const touched = new Set<string>();
    const objects = fleet.cloud.objects;
    const [get, put] = [objects.get.bind(objects), objects.put.bind(objects)];
    objects.get = (bucket, key, etag) => (touched.add(`s3:GetObject ${bucket}/${key}`), get(bucket, key, etag));
    objects.put = (bucket, key, body, condition) => (touched.add(`s3:PutObject ${bucket}/${key}`), put(bucket, key, body, condition));
    fleet.publishDesired({ 'bld-linux64': 2 });
    await fleet.cycles(2);
    fleet.advance(24 * 3600_000);
    await fleet.cycles(2);
    // The test fleet's one bucket stands for the deployed ones: the manifest's, and the control bucket.
    const deployed = (path: string) =>
      path === `${BUCKET}/amis.json` ? 'releng-golden-amis/amis.json' : path.replace(`${BUCKET}/`, 'releng-fleet-control/');
    const denied = [...touched].filter((t) => {
      const [action, path] = t.split(' ') as [string, string];
      return !evaluate(SERVICE, { action, resource: `arn:aws:s3:::${deployed(path)}`, context: { 'aws:PrincipalAccount': ACCOUNT } })
        .allowed;
    });
    expect([...touched]).to.include.members([
      `s3:PutObject ${BUCKET}/state/reconciler.json`,
      `s3:PutObject ${BUCKET}/state/images.json`,
      `s3:GetObject ${BUCKET}/amis.json`,
    ]);
    expect(denied).to.deep.equal([]);
  });
});

describe('IAM: fleet-service.json grants nothing more', () => {
  const instance = (tags: Record<string, string>) => ({
    'aws:PrincipalAccount': ACCOUNT,
    ...Object.fromEntries(
      Object.entries(tags).flatMap(([k, v]) => [
        [`aws:ResourceTag/${k}`, v],
        [`ec2:ResourceTag/${k}`, v],
      ]),
    ),
  });
  const tagging = (keys: Record<string, string>) => ({
    ...Object.fromEntries(Object.entries(keys).map(([k, v]) => [`aws:RequestTag/${k}`, v])),
    'aws:TagKeys': Object.keys(keys),
  });
  const ARN = `arn:aws:ec2:${REGION}:${ACCOUNT}:instance/i-1`;
  const allowed = (r: Omit<AuthRequest, 'call'>) => evaluate(SERVICE, r).allowed;
  const OWN = { 'fleet:managed-by': FLEET };

  it('tags its own instances with Name, fleet:replaces and fleet:retire only', () => {
    expect(
      allowed({
        action: 'ec2:CreateTags',
        resource: ARN,
        context: { ...instance(OWN), ...tagging({ Name: 'x', 'fleet:replaces': 'i-0' }) },
      }),
    ).to.equal(true);
    expect(
      allowed({ action: 'ec2:CreateTags', resource: ARN, context: { ...instance(OWN), ...tagging({ 'fleet:retire': '1' }) } }),
    ).to.equal(true);
    expect(
      allowed({
        action: 'ec2:CreateTags',
        resource: ARN,
        context: { ...instance(OWN), ...tagging({ 'fleet:retire': '1', 'fleet:retire-cause': 'scale-down' }) },
      }),
    ).to.equal(true);
    expect(
      allowed({
        action: 'ec2:CreateTags',
        resource: ARN,
        context: { ...instance(OWN), ...tagging({ Name: 'x', 'fleet:replaces': 'i-0', 'fleet:cause': 'outdated' }) },
      }),
    ).to.equal(true);
    expect(
      allowed({ action: 'ec2:CreateTags', resource: ARN, context: { ...instance({ Name: 'x' }), ...tagging({ Name: 'y' }) } }),
      'a foreign instance',
    ).to.equal(false);
    expect(
      allowed({ action: 'ec2:CreateTags', resource: ARN, context: { ...instance(OWN), ...tagging({ 'fleet:managed-by': 'other' }) } }),
      'its ownership tag',
    ).to.equal(false);
    expect(allowed({ action: 'ec2:CreateTags', resource: ARN, context: { ...instance(OWN), ...tagging({ 'fleet:pool': 'x' }) } })).to.equal(
      false,
    );
    expect(
      allowed({
        action: 'ec2:CreateTags',
        resource: `arn:aws:ec2:${REGION}:${ACCOUNT}:volume/vol-1`,
        context: { ...instance(OWN), ...tagging({ Name: 'x' }) },
      }),
    ).to.equal(false);
  });

  it('removes fleet:retire from its own instances only, and no other tag', () => {
    expect(
      allowed({ action: 'ec2:DeleteTags', resource: ARN, context: { ...instance(OWN), ...tagging({ 'fleet:retire': '' }) } }),
    ).to.equal(true);
    expect(allowed({ action: 'ec2:DeleteTags', resource: ARN, context: { ...instance({}), ...tagging({ 'fleet:retire': '' }) } })).to.equal(
      false,
    );
    expect(allowed({ action: 'ec2:DeleteTags', resource: ARN, context: { ...instance(OWN), ...tagging({ Name: '' }) } })).to.equal(false);
    // DeleteTags without tags deletes every tag: no aws:TagKeys in the request.
    expect(allowed({ action: 'ec2:DeleteTags', resource: ARN, context: instance(OWN) })).to.equal(false);
  });

  it('launches only from images of its own account, and only tagged as its own', () => {
    const image = (owner: string) => ({
      action: 'ec2:RunInstances',
      resource: `arn:aws:ec2:${REGION}::image/ami-1`,
      context: { 'aws:PrincipalAccount': ACCOUNT, 'ec2:Owner': owner },
    });
    expect(allowed(image(ACCOUNT))).to.equal(true);
    expect(allowed(image('999999999999'))).to.equal(false);
    expect(allowed(image('amazon'))).to.equal(false);
    const launched = (tags: Record<string, string>) => ({
      action: 'ec2:RunInstances',
      resource: `arn:aws:ec2:${REGION}:${ACCOUNT}:instance/*`,
      context: { 'aws:PrincipalAccount': ACCOUNT, ...tagging(tags) },
    });
    expect(allowed(launched(OWN))).to.equal(true);
    expect(allowed(launched({ Name: 'x' })), 'an instance without the ownership tag').to.equal(false);
  });
});

describe('IAM: fleet-worker.json', () => {
  const WORKER = loadPolicy('policies/iam/fleet-worker.json');
  const reads = (key: string) =>
    evaluate(WORKER, { action: 's3:GetObject', resource: `arn:aws:s3:::releng-fleet-control/state/${key}`, context: {} }).allowed;

  it("grants the documents check-ami reads, and not the service journal (it holds every pool's launch parameters)", () => {
    expect(['drained.json', 'images.json', 'last-good-manifest.json'].filter((k) => !reads(k))).to.deep.equal([]);
    expect(['reconciler.json', 'events.json', 'last-good-desired.json'].filter(reads)).to.deep.equal([]);
    expect(
      evaluate(WORKER, { action: 's3:PutObject', resource: 'arn:aws:s3:::releng-fleet-control/state/drained.json', context: {} }).allowed,
    ).to.equal(false);
  });
});
