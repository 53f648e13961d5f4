// The fault proxy's network faults and its EC2 ClientToken rules, against moto_server: what the
// client sees and what moto was left with.

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

import {
  DescribeImagesCommand,
  DescribeInstancesCommand,
  DescribeSubnetsCommand,
  EC2Client,
  EC2ServiceException,
  RunInstancesCommand,
  type RunInstancesCommandInput,
} from '@aws-sdk/client-ec2';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { expect } from 'chai';
import { classify } from '../../../src/cloud/errors.js';
import { type FaultProxy, startFaultProxy } from '../../support/fault-proxy.js';
import { motoClientConfig, useMoto } from '../../support/moto.js';
import { rejection } from '../../support/expect.js';

describe('test support: the fault proxy as EC2 and the network behave', function () {
  this.timeout(30_000);
  const moto = useMoto(this);
  let proxy: FaultProxy;
  let ec2: EC2Client;
  let direct: EC2Client;
  let base: RunInstancesCommandInput;

  before(async () => {
    proxy = await startFaultProxy(moto().endpoint);
    ec2 = new EC2Client({ ...motoClientConfig(proxy.endpoint), maxAttempts: 1, userAgentAppId: 'tester' });
    direct = new EC2Client({ ...motoClientConfig(moto().endpoint), maxAttempts: 1 });
  });
  after(async () => {
    ec2?.destroy();
    direct?.destroy();
    await proxy?.close();
  });
  beforeEach(async () => {
    await moto().reset();
    proxy.clearRules();
    proxy.clearCalls();
    proxy.forgetTokens();
    const { Images = [] } = await direct.send(new DescribeImagesCommand({ Owners: ['amazon'] }));
    const { Subnets = [] } = await direct.send(new DescribeSubnetsCommand({}));
    base = {
      ImageId: Images.find((i) => String(i.Platform ?? '').toLowerCase() !== 'windows')?.ImageId,
      SubnetId: Subnets[0]?.SubnetId,
      InstanceType: 't3.micro',
      MinCount: 1,
      MaxCount: 1,
    };
  });

  /** Every instance moto holds, asked of moto directly. */
  async function motoInstances(): Promise<string[]> {
    const out = await direct.send(new DescribeInstancesCommand({}));
    return (out.Reservations ?? []).flatMap((r) => r.Instances ?? []).map((i) => i.InstanceId as string);
  }

  const run = (input: Partial<RunInstancesCommandInput>, options: { abortSignal?: AbortSignal } = {}) =>
    ec2.send(new RunInstancesCommand({ ...base, ...input }), options);

  it('loses a request: it never reaches moto, and the client sees a connection reset', async () => {
    proxy.addNetworkRule({ action: 'RunInstances', fault: { kind: 'lose-request' }, times: 1 });
    const error = classify(await rejection(run({ ClientToken: 'lost-request' })));
    expect(error.errorClass).to.equal('transient');
    expect(await motoInstances()).to.deep.equal([]);
    expect(proxy.calls[0]).to.deep.include({
      action: 'RunInstances',
      outcome: 'lost-request',
      forwarded: false,
      faulted: true,
      agent: 'tester',
    });
    // The token was never used: the same token with other parameters launches.
    const made = await run({ ClientToken: 'lost-request', InstanceType: 't3.small' });
    expect(made.Instances).to.have.length(1);
  });

  it('loses a response: moto acts, the client sees a connection reset; a retry with the same token gets the first answer', async () => {
    proxy.addNetworkRule({ action: 'RunInstances', fault: { kind: 'lose-response' }, times: 1 });
    const error = classify(await rejection(run({ ClientToken: 'lost-response', MinCount: 2, MaxCount: 2 })));
    expect(error.errorClass).to.equal('transient');
    const made = await motoInstances();
    expect(made).to.have.length(2);
    const again = await run({ ClientToken: 'lost-response', MinCount: 2, MaxCount: 2 });
    expect((again.Instances ?? []).map((i) => i.InstanceId).sort()).to.deep.equal([...made].sort());
    expect(await motoInstances()).to.have.length(2);
    expect(proxy.calls.map((c) => [c.outcome, c.forwarded])).to.deep.equal([
      ['lost-response', true],
      ['replayed', false],
    ]);
  });

  it('answers a reused token with other parameters IdempotentParameterMismatch (HTTP 400, EC2’s error XML), whatever parameter differs', async () => {
    const first = await run({ ClientToken: 'token-a' });
    const id = first.Instances?.[0]?.InstanceId;
    for (const other of [
      { InstanceType: 't3.small' as const },
      { MinCount: 1, MaxCount: 2 },
      { KeyName: 'other' },
      { UserData: Buffer.from('#!/bin/sh\n').toString('base64') },
    ]) {
      const err = (await rejection(run({ ClientToken: 'token-a', ...other }))) as EC2ServiceException;
      expect(err).to.be.instanceOf(EC2ServiceException);
      expect(err.name).to.equal('IdempotentParameterMismatch');
      expect(err.$metadata.httpStatusCode).to.equal(400);
      expect(classify(err)).to.include({ code: 'IdempotentParameterMismatch', errorClass: 'invalid' });
    }
    const same = await run({ ClientToken: 'token-a' });
    expect(same.Instances?.[0]?.InstanceId).to.equal(id);
    expect(await motoInstances()).to.deep.equal([id]);
    expect(proxy.calls.filter((c) => c.forwarded).map((c) => c.params.get('ClientToken'))).to.deep.equal(['token-a']);
  });

  it('two calls with one token at once make one set of instances', async () => {
    const [a, b] = await Promise.all([run({ ClientToken: 'together' }), run({ ClientToken: 'together' })]);
    expect(a.Instances?.[0]?.InstanceId).to.equal(b.Instances?.[0]?.InstanceId);
    expect(await motoInstances()).to.have.length(1);
  });

  it('a token whose first call was refused was never used', async () => {
    proxy.addRule({ action: 'RunInstances', code: 'InsufficientInstanceCapacity', times: 1 });
    expect((await rejection(run({ ClientToken: 'refused' }))).name).to.equal('InsufficientInstanceCapacity');
    const made = await run({ ClientToken: 'refused', InstanceType: 't3.small' });
    expect(made.Instances?.[0]?.InstanceType).to.equal('t3.small');
  });

  it('holds a call before moto sees it until released, while other calls go on', async () => {
    proxy.addNetworkRule({ action: 'RunInstances', fault: { kind: 'hang', ms: 60_000 }, times: 1 });
    const hung = run({ ClientToken: 'held' });
    await until(() => proxy.calls.some((c) => c.action === 'RunInstances'));
    // Another call passes while the launch is held, and moto has made nothing yet.
    expect(await motoInstances()).to.deep.equal([]);
    await ec2.send(new DescribeSubnetsCommand({}));
    expect(proxy.calls.find((c) => c.action === 'RunInstances')?.outcome).to.equal('in-flight');
    proxy.release();
    expect((await hung).Instances).to.have.length(1);
    const [held, other] = [proxy.calls.find((c) => c.action === 'RunInstances'), proxy.calls.find((c) => c.action === 'DescribeSubnets')];
    expect(held?.outcome).to.equal('forwarded');
    expect(held?.forwardedSeq).to.be.greaterThan(other?.forwardedSeq as number);
  });

  it('a held request whose client gives up is never forwarded; a held answer is thrown away, moto having acted', async () => {
    proxy.addNetworkRule({ action: 'RunInstances', fault: { kind: 'hang', ms: 60_000 }, times: 1 });
    const abort = new AbortController();
    const gaveUp = run({ ClientToken: 'given-up' }, { abortSignal: abort.signal });
    await until(() => proxy.calls.length > 0);
    abort.abort();
    await rejection(gaveUp);
    await until(() => proxy.calls[0]?.outcome === 'dropped');
    expect(await motoInstances()).to.deep.equal([]);
    expect(proxy.calls[0]?.forwarded).to.equal(false);

    proxy.addNetworkRule({ action: 'RunInstances', fault: { kind: 'hang', ms: 60_000, phase: 'response' }, times: 1 });
    const late = new AbortController();
    const answered = run({ ClientToken: 'answer-held' }, { abortSignal: late.signal });
    await until(() => proxy.calls[1]?.forwarded === true && proxy.calls.length === 2);
    await until(async () => (await motoInstances()).length === 1);
    late.abort();
    await rejection(answered);
    await until(() => proxy.calls[1]?.outcome === 'dropped');
    expect(await motoInstances()).to.have.length(1);
  });

  it('loses S3 calls too, by `${method} ${path}`', async () => {
    const s3 = new S3Client({ ...motoClientConfig(proxy.endpoint), maxAttempts: 1, forcePathStyle: true });
    try {
      await s3.send(new CreateBucketCommand({ Bucket: 'state' }));
      proxy.addNetworkRule({ action: 'PUT /state/doc.json', fault: { kind: 'lose-response' }, times: 1 });
      await rejection(s3.send(new PutObjectCommand({ Bucket: 'state', Key: 'doc.json', Body: '{"n":1}' })));
      // The write happened: only its answer was lost.
      const got = await s3.send(new GetObjectCommand({ Bucket: 'state', Key: 'doc.json' }));
      expect(await got.Body?.transformToString()).to.equal('{"n":1}');
      proxy.addNetworkRule({ action: 'PUT /state/doc.json', fault: { kind: 'lose-request' }, times: 1 });
      await rejection(s3.send(new PutObjectCommand({ Bucket: 'state', Key: 'doc.json', Body: '{"n":2}' })));
      const kept = await s3.send(new GetObjectCommand({ Bucket: 'state', Key: 'doc.json' }));
      expect(await kept.Body?.transformToString()).to.equal('{"n":1}');
    } finally {
      s3.destroy();
    }
  });
});

/** Wait for a condition the proxy or moto reaches on its own (polled; no time is asserted). */
async function until(condition: () => boolean | Promise<boolean>): Promise<void> {
  while (!(await condition())) await new Promise((resolve) => setTimeout(resolve, 20));
}
