// The event inbox with the AWS adapter against moto_server's SQS: what is recorded, what is
// deleted and when, and what a failure leaves behind.

import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient, SendMessageCommand } from '@aws-sdk/client-sqs';
import { expect } from 'chai';
import { SqsEventQueue } from '../../src/cloud/aws/sqs.js';
import { CloudError } from '../../src/cloud/errors.js';
import { systemClock } from '../../src/domain/clock.js';
import { EventInbox } from '../../src/service/event-inbox.js';
import { EVENTS_DOC } from '../../src/service/state-docs.js';
import { DirectoryStateStore, type StateStore } from '../../src/shared/state-store.js';
import { interruptionWarning, rebalanceRecommendation, stateChange } from '../support/ec2-events.js';
import { capturedLogger } from '../support/log-capture.js';
import { motoClientConfig, useMoto } from '../support/moto.js';

const A = 'i-0aaaaaaaaaaaaaaa1';
const B = 'i-0bbbbbbbbbbbbbbb2';

describe('contract: event inbox on SQS (moto_server)', function () {
  this.timeout(30_000);
  const moto = useMoto(this);
  let sqs: SQSClient;
  let dir: string;
  let state: DirectoryStateStore;
  let queues = 0;

  before(() => {
    sqs = new SQSClient(motoClientConfig(moto().endpoint));
  });
  beforeEach(() => {
    dir = mkdtempSync(join(os.tmpdir(), 'fleet-events-'));
    state = new DirectoryStateStore(dir);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** A fresh queue; a visibility timeout of 0 makes an undeleted message visible again at once. */
  async function queue(visibilitySeconds = 30): Promise<SqsEventQueue> {
    const out = await sqs.send(
      new CreateQueueCommand({ QueueName: `fleet-events-${++queues}`, Attributes: { VisibilityTimeout: String(visibilitySeconds) } }),
    );
    return new SqsEventQueue(out.QueueUrl as string, sqs);
  }

  async function send(q: SqsEventQueue, ...bodies: string[]): Promise<void> {
    for (const body of bodies) await sqs.send(new SendMessageCommand({ QueueUrl: q.url, MessageBody: body }));
  }

  /** Messages still in the queue, visible or in flight. */
  async function left(q: SqsEventQueue): Promise<number> {
    const out = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: q.url,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      }),
    );
    return Number(out.Attributes?.ApproximateNumberOfMessages) + Number(out.Attributes?.ApproximateNumberOfMessagesNotVisible);
  }

  function inbox(q: SqsEventQueue, store: StateStore = state) {
    const { log, lines } = capturedLogger();
    return { inbox: new EventInbox({ queue: q, state: store, clock: systemClock, log }), lines };
  }

  it('records warnings, rebalance recommendations and state changes in events.json, then deletes the messages', async () => {
    const q = await queue();
    const now = new Date();
    const t = (secondsAgo: number) => new Date(now.getTime() - secondsAgo * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    const warning = interruptionWarning(A, t(10), 'us-east-1');
    await send(
      q,
      warning,
      rebalanceRecommendation(B, t(300), 'us-west-2'),
      stateChange(A, 'running', t(600)),
      stateChange(A, 'pending', t(700)),
      warning,
    );
    const { inbox: subject } = inbox(q);

    const report = await subject.poll(2_000);
    expect(report.received).to.equal(5);
    expect(report.warnings).to.equal(2);
    expect(report.failed).to.equal(undefined);
    expect(report.tally).to.deep.include.members([
      { kind: 'interruption-warning', result: 'handled', count: 2 },
      { kind: 'rebalance-recommendation', result: 'handled', count: 1 },
      { kind: 'state-change', result: 'handled', count: 2 },
    ]);
    const facts = await subject.readFacts();
    const warnedAt = Date.parse(t(10));
    expect(facts.warned).to.deep.equal({ [A]: { at: warnedAt, actionTime: warnedAt + 120_000, region: 'us-east-1' } });
    expect(facts.rebalance).to.deep.equal({ [B]: { at: Date.parse(t(300)), region: 'us-west-2' } });
    expect(facts.states).to.deep.equal({ [A]: { state: 'running', at: Date.parse(t(600)), region: 'us-east-1' } });
    expect(await left(q)).to.equal(0);

    // Nothing left: a short poll finds nothing, and the facts stay as they were.
    const again = await subject.poll(0);
    expect(again).to.deep.equal({ received: 0, tally: [], warnings: 0 });
    expect(await subject.readFacts()).to.deep.equal(facts);
  });

  it('drops malformed and foreign messages: logged at warn with the reason, deleted, nothing written', async () => {
    const q = await queue();
    const foreign = JSON.stringify({
      version: '0',
      id: 'x',
      'detail-type': 'EC2 Instance Launch Successful',
      source: 'aws.autoscaling',
      time: '2026-11-20T10:00:00Z',
      region: 'us-east-1',
      detail: {},
    });
    await send(q, '{"truncated": ', foreign);
    const { inbox: subject, lines } = inbox(q);

    const report = await subject.poll(2_000);
    expect(report.received).to.equal(2);
    expect(report.tally).to.deep.include.members([
      { kind: 'unknown', result: 'malformed', count: 1 },
      { kind: 'unknown', result: 'foreign', count: 1 },
    ]);
    const dropped = lines().filter((l) => l.msg === 'event message dropped');
    expect(dropped.map((l) => [l.level, l.result])).to.deep.equal([
      [40, 'malformed'],
      [40, 'foreign'],
    ]);
    expect(String(dropped[0]?.reason)).to.match(/^not JSON/);
    expect(String(dropped[1]?.reason)).to.include('aws.autoscaling');
    expect(await left(q)).to.equal(0);
    expect(await state.read(EVENTS_DOC)).to.equal(undefined);
  });

  it('a state write that fails leaves every message in the queue, and the next poll records them', async () => {
    const q = await queue(0);
    await send(q, interruptionWarning(A, new Date().toISOString().replace(/\.\d{3}Z$/, 'Z')), 'garbage');
    const broken: StateStore = {
      where: 'broken',
      read: (name) => state.read(name),
      write: async () => {
        throw new CloudError('transient', 'InternalError', 'We encountered an internal error. Please try again.', 500);
      },
    };
    const { inbox: failing, lines } = inbox(q, broken);
    const report = await failing.poll(2_000);
    expect(report.failed).to.match(/facts not written/);
    expect(report.warnings).to.equal(0);
    expect(report.tally).to.deep.equal([]);
    expect(lines().some((l) => l.level === 40 && String(l.msg).includes('events.json not written'))).to.equal(true);
    expect(await left(q)).to.equal(2);

    const { inbox: working } = inbox(q);
    const retried = await working.poll(2_000);
    expect(retried.warnings).to.equal(1);
    expect(Object.keys((await working.readFacts()).warned)).to.deep.equal([A]);
    expect(await left(q)).to.equal(0);
  });

  it('an unreachable queue, or one that does not exist, returns a report without throwing', async () => {
    const nowhere = new SqsEventQueue(
      'http://127.0.0.1:9/123456789012/fleet-events',
      new SQSClient({ ...motoClientConfig('http://127.0.0.1:9'), maxAttempts: 1 }),
    );
    const { inbox: unreachable, lines } = inbox(nowhere);
    const report = await unreachable.poll(2_000);
    expect(report.failed).to.match(/^queue unreachable/);
    const warned = lines().find((l) => l.msg === 'event queue unreachable; fleet goes on without its events');
    expect(warned).to.include({ level: 40, class: 'transient' });

    const missing = new SqsEventQueue(`${moto().endpoint}/123456789012/no-such-queue`, sqs);
    const { inbox: lost, lines: lostLines } = inbox(missing);
    expect((await lost.poll(2_000)).failed).to.match(/^queue unreachable/);
    expect(lostLines().find((l) => l.msg === 'event queue unreachable; fleet goes on without its events')).to.include({
      class: 'not-found',
    });
  });

  it('deletes in batches of ten: a backlog of 25 is drained and deleted in one poll', async () => {
    const q = await queue();
    const base = Date.now() - 60_000;
    const bodies = Array.from({ length: 25 }, (_, n) =>
      stateChange(`i-0${String(n).padStart(16, '0')}`, 'running', new Date(base + n * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z')),
    );
    await send(q, ...bodies);
    const { inbox: subject } = inbox(q);
    let received = 0;
    for (let k = 0; k < 5 && received < 25; k++) received += (await subject.poll(1_000)).received;
    expect(received).to.equal(25);
    expect(Object.keys((await subject.readFacts()).states)).to.have.length(25);
    expect(await left(q)).to.equal(0);
  });
});
