// `fleet reconcile` as a service with events.queue on moto_server: the wait between cycles is
// spent on the queue, a warning lands in the state store and is deleted, SIGTERM ends a long poll.

import { spawn } from 'node:child_process';
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient, SendMessageCommand } from '@aws-sdk/client-sqs';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { expect } from 'chai';
import { BIN, fleet } from '../support/cli.js';
import { interruptionWarning } from '../support/ec2-events.js';
import { type MotoFleet, motoFleet } from '../support/moto-fleet.js';
import { motoClientConfig, useMoto } from '../support/moto.js';
import { freePort, until } from '../support/waiting.js';

describe('cli: reconcile reads EC2 events from events.queue (moto_server)', function () {
  this.timeout(60_000);
  const moto = useMoto(this);
  let world: MotoFleet;
  let sqs: SQSClient;
  let queueUrl: string;

  before(async () => {
    sqs = new SQSClient(motoClientConfig(moto().endpoint));
    queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: 'fleet-ec2-events' }))).QueueUrl as string;
    world = await motoFleet(moto().endpoint, { config: { events: { queue: queueUrl } } });
  });
  after(async () => world?.proxy.close());

  it('config check shows the queue', async () => {
    const r = await fleet(['config', 'check', '--config', world.config], world.env);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.include(`"queue": ${JSON.stringify(queueUrl)}`);
  });

  it('records a warning in events.json, deletes the message, counts it, and stops at once on SIGTERM', async () => {
    const port = await freePort();
    // A long interval: the warning has to be read during the wait, not by a next cycle.
    const child = spawn(process.execPath, [BIN, 'reconcile', '--config', world.config], {
      env: { PATH: process.env.PATH ?? '', ...world.env, FLEET_INTERVAL: '300', FLEET_METRICS_PORT: String(port) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    try {
      await until(
        'the first cycle',
        () => cycled(port),
        30_000,
        () => stderr,
      );
      const instanceId = 'i-0123456789abcdef0';
      const at = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
      await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: interruptionWarning(instanceId, at) }));
      const facts = await until(
        'the warning in events.json',
        async () => {
          const out = await world.s3.send(new GetObjectCommand({ Bucket: 'fleet-control', Key: 'state/events.json' }));
          const doc = JSON.parse((await out.Body?.transformToString()) ?? '{}') as { warned?: Record<string, unknown> };
          return doc.warned?.[instanceId] ? doc : undefined;
        },
        30_000,
        () => stderr,
      );
      expect(facts.warned?.[instanceId]).to.deep.equal({ at: Date.parse(at), actionTime: Date.parse(at) + 120_000, region: 'us-east-1' });
      const left = await until(
        'the message deleted',
        async () => {
          const a = await sqs.send(
            new GetQueueAttributesCommand({
              QueueUrl: queueUrl,
              AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
            }),
          );
          const n = Number(a.Attributes?.ApproximateNumberOfMessages) + Number(a.Attributes?.ApproximateNumberOfMessagesNotVisible);
          return n === 0 ? n : undefined;
        },
        30_000,
        () => stderr,
      );
      expect(left).to.equal(0);
      const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      expect(metrics).to.include('fleet_events_total{kind="interruption-warning",result="handled"} 1');
      // The warning started the next cycle without waiting out the 300 s interval.
      await until(
        'a second cycle',
        async () => ((await cycles(port)) >= 2 ? true : undefined),
        30_000,
        () => stderr,
      );
      const recorded = stderr.split('\n').filter((l) => l.includes('"msg":"EC2 event recorded"'));
      expect(recorded).to.have.length(1);
      expect(JSON.parse(recorded[0] as string)).to.include({ kind: 'interruption-warning', instance: instanceId, level: 30 });
    } finally {
      child.kill('SIGTERM');
    }
    // The long poll in flight is cut short: the service exits at once, not after its interval.
    const code = await Promise.race([
      exited,
      new Promise<string>((resolve) => setTimeout(() => resolve('still running 20 s after SIGTERM'), 20_000)),
    ]);
    child.kill('SIGKILL');
    expect(code, stderr).to.equal(0);
    expect(stderr).to.match(/"msg":"stopped"/);
  });
});

async function cycles(port: number): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('fleet_cycles_total{result="ok"} '));
  return line === undefined ? 0 : Number(line.split(' ')[1]);
}

async function cycled(port: number): Promise<true | undefined> {
  return (await cycles(port)) >= 1 ? true : undefined;
}
