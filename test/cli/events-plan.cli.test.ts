// EC2 events end to end on moto_server: an EventBridge message in the queue, `fleet reconcile --once`
// (the built binary), and what EC2 then holds. moto sends no events and never interrupts anything:
// the test writes the events into the queue as EventBridge would, and plays EC2's reclaim itself.
// moto lists a launched instance as running at once, so "once its replacement runs" is the next cycle.

import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient, SendMessageCommand } from '@aws-sdk/client-sqs';
import { DescribeInstancesCommand, type Instance, TerminateInstancesCommand } from '@aws-sdk/client-ec2';
import { expect } from 'chai';
import { fleet } from '../support/cli.js';
import { interruptionWarning, rawEvent, rebalanceRecommendation } from '../support/ec2-events.js';
import { type MotoFleet, motoFleet } from '../support/moto-fleet.js';
import { motoClientConfig, useMoto } from '../support/moto.js';

/** EventBridge stamps whole seconds. */
const nowStamp = () => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
const offer = (i: Instance) => `${i.Placement?.AvailabilityZone} ${i.InstanceType}`;
const tag = (i: Instance, key: string) => i.Tags?.find((t) => t.Key === key)?.Value;
const logLines = (stderr: string, msg: string) =>
  stderr
    .split('\n')
    .filter((l) => l.includes(`"msg":${JSON.stringify(msg)}`))
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe('cli: EC2 events from events.queue change what reconcile --once does (moto_server)', function () {
  this.timeout(90_000);
  const moto = useMoto(this);
  let world: MotoFleet;
  let sqs: SQSClient;
  let queueUrl: string;
  let queues = 0;

  beforeEach(async () => {
    await moto().reset();
    sqs = new SQSClient(motoClientConfig(moto().endpoint));
    queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: `fleet-ec2-events-${++queues}` }))).QueueUrl as string;
    // Three zones, one type: three offers, and a spread of 50% puts the two workers in two of them.
    world = await motoFleet(moto().endpoint, { desired: 2, subnetIndexes: [0, 1, 2], config: { events: { queue: queueUrl } } });
  });
  afterEach(async () => world?.proxy.close());

  async function reconcileOnce() {
    world.proxy.clearCalls();
    const r = await fleet(['reconcile', '--once', '--config', world.config], world.env);
    expect(r.code, r.stderr).to.equal(0);
    const actions = world.proxy.calls.map((c) => c.action);
    return {
      ...r,
      runs: actions.filter((a) => a === 'RunInstances').length,
      terminates: world.proxy.calls.filter((c) => c.action === 'TerminateInstances'),
    };
  }

  async function instances(): Promise<Instance[]> {
    const out = await world.ec2.send(new DescribeInstancesCommand({ Filters: [{ Name: 'tag:fleet:managed-by', Values: ['releng'] }] }));
    return (out.Reservations ?? []).flatMap((r) => r.Instances ?? []);
  }
  const live = async () => (await instances()).filter((i) => i.State?.Name === 'running' || i.State?.Name === 'pending');

  async function send(body: string): Promise<void> {
    await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body }));
  }

  /** Messages still in the queue, visible or in flight. */
  async function queued(): Promise<number> {
    const a = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: queueUrl,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      }),
    );
    return Number(a.Attributes?.ApproximateNumberOfMessages) + Number(a.Attributes?.ApproximateNumberOfMessagesNotVisible);
  }

  /** The pool at its desired two workers, running, in two offers. */
  async function twoWorkers(): Promise<Instance[]> {
    const first = await reconcileOnce();
    expect(first.stdout).to.match(/launched 2, terminated 0/);
    const workers = await live();
    expect(workers.map((i) => i.State?.Name)).to.deep.equal(['running', 'running']);
    expect(new Set(workers.map(offer)).size).to.equal(2);
    return workers;
  }

  it('an interruption warning: the next cycle launches a replacement in another offer, sends no terminate, and the message is gone', async () => {
    const [warned, other] = (await twoWorkers()) as [Instance, Instance];
    await send(interruptionWarning(warned.InstanceId as string, nowStamp()));

    const r = await reconcileOnce();
    expect(r.stdout).to.match(/launched 1, terminated 0/);
    expect(await queued()).to.equal(0);
    expect(logLines(r.stderr, 'EC2 event recorded')).to.have.length(1);
    expect(logLines(r.stderr, 'EC2 event recorded')[0]).to.include({ kind: 'interruption-warning', instance: warned.InstanceId });
    const [launch] = logLines(r.stderr, 'launch');
    expect(launch?.cause, 'it stands in for the warned instance').to.equal('warning');
    // EC2 reclaims a warned instance itself: fleet terminates nothing.
    expect(r.terminates).to.deep.equal([]);
    const now = await live();
    expect(now).to.have.length(3);
    const replacement = now.find((i) => i.InstanceId !== warned.InstanceId && i.InstanceId !== other.InstanceId) as Instance;
    expect(offer(replacement)).to.not.equal(offer(warned));
    expect(replacement.InstanceLifecycle).to.equal('spot');

    // Two minutes later EC2 reclaims it (played here: moto never interrupts); the pool is whole, nothing changes.
    await world.ec2.send(new TerminateInstancesCommand({ InstanceIds: [warned.InstanceId as string] }));
    const after = await reconcileOnce();
    expect(after.stdout).to.match(/launched 0, terminated 0/);
    expect((await live()).map((i) => i.InstanceId).sort()).to.deep.equal([other.InstanceId, replacement.InstanceId].sort());
  });

  it('a rebalance recommendation: a replacement tagged fleet:replaces first, the old worker terminated once it runs', async () => {
    const [atRisk, other] = (await twoWorkers()) as [Instance, Instance];
    await send(rebalanceRecommendation(atRisk.InstanceId as string, nowStamp()));

    const first = await reconcileOnce();
    expect(first.stdout).to.match(/launched 1, terminated 0/);
    expect(first.terminates).to.deep.equal([]);
    expect(await queued()).to.equal(0);
    expect(logLines(first.stderr, 'launch')[0]?.cause).to.equal('recommendation');
    const three = await live();
    expect(three).to.have.length(3);
    const replacement = three.find((i) => i.InstanceId !== atRisk.InstanceId && i.InstanceId !== other.InstanceId) as Instance;
    expect(tag(replacement, 'fleet:replaces')).to.equal(atRisk.InstanceId);
    expect(offer(replacement)).to.not.equal(offer(atRisk));
    expect(replacement.State?.Name).to.equal('running');

    // The replacement runs: the next cycle retires the instance at risk, and launches nothing.
    const second = await reconcileOnce();
    expect(second.stdout).to.match(/launched 0, terminated 1/);
    expect(second.terminates.map((c) => c.params.get('InstanceId.1'))).to.deep.equal([atRisk.InstanceId]);
    expect((await live()).map((i) => i.InstanceId).sort()).to.deep.equal([other.InstanceId, replacement.InstanceId].sort());
  });

  it('a malformed message is logged and dropped: exit 0, the queue empty, nothing launched or terminated', async () => {
    const workers = await twoWorkers();
    const noInstance = rawEvent('EC2 Spot Instance Interruption Warning', workers[0]?.InstanceId as string, nowStamp());
    delete (noInstance.detail as Record<string, unknown>)['instance-id'];
    await send('{"detail-type": "EC2 Spot Instance Interruption Warning", "detail": {');
    await send(JSON.stringify(noInstance));

    const r = await reconcileOnce();
    expect(r.stdout).to.match(/launched 0, terminated 0/);
    expect(r.runs).to.equal(0);
    expect(r.terminates).to.deep.equal([]);
    expect(await queued()).to.equal(0);
    const dropped = logLines(r.stderr, 'event message dropped');
    expect(dropped).to.have.length(2);
    for (const d of dropped) expect(d).to.include({ level: 40, result: 'malformed' }).and.to.have.property('reason').that.is.a('string');
    expect(logLines(r.stderr, 'EC2 event recorded')).to.deep.equal([]);
    expect((await live()).map((i) => i.InstanceId).sort()).to.deep.equal(workers.map((i) => i.InstanceId).sort());
  });
});
