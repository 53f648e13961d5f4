// The simulated queue's SendMessage and at-least-once deliveries, and the simulated wait's mayPoll
// (only the lease holder consumes the queue). Simulated.

import { expect } from 'chai';
import type { PollReport } from '../../src/service/event-inbox.js';
import { silentLogger } from '../../src/service/logger.js';
import { SimClock } from '../../src/fake-cloud/clock.js';
import { SimCloud } from '../../src/fake-cloud/cloud.js';
import { spendWaitOnEvents } from '../../src/sim/event-wait.js';
import type { SimEventQueue } from '../../src/fake-cloud/sqs.js';

const T0 = Date.parse('2026-11-20T00:00:00Z');

function queue() {
  // Delivery from the rule off: only what the test sends is queued.
  const cloud = new SimCloud({ seed: 1, start: T0, defaultSubnets: ['us-east-1'] });
  return { clock: cloud.clock, q: cloud.eventQueue };
}

async function drain(q: SimEventQueue): Promise<{ id: string; body: string }[]> {
  const got: { id: string; body: string }[] = [];
  for (let batch = await q.receive(0); batch.length > 0; batch = await q.receive(0)) {
    got.push(...batch.map((m) => ({ id: m.id, body: m.body })));
    expect(await q.delete(batch.map((m) => m.handle))).to.deep.equal({ failed: [] });
  }
  return got;
}

describe('sim: SimEventQueue.send and duplicate', () => {
  it('send queues any body, with an id of its own, delivered and deleted like EventBridge’s', async () => {
    const { q, clock } = queue();
    const a = q.send('not json {');
    const b = q.send('{"Type":"Notification"}');
    expect(a).to.not.equal(b);
    expect(q.queued()).to.deep.equal([
      { id: a, queuedAt: T0, received: false },
      { id: b, queuedAt: T0, received: false },
    ]);
    expect(await drain(q)).to.deep.equal([
      { id: a, body: 'not json {' },
      { id: b, body: '{"Type":"Notification"}' },
    ]);
    expect(q.depth).to.equal(0);
    expect(clock.now()).to.be.above(T0);
  });

  it('duplicate delivers the nth newest message again, same id and body, even once the first was deleted', async () => {
    const { q } = queue();
    const first = q.send('one');
    const second = q.send('two');
    await drain(q);
    expect(q.duplicate(1)).to.equal(first);
    expect(q.duplicate(0)).to.equal(second);
    expect(await drain(q)).to.deep.equal([
      { id: first, body: 'one' },
      { id: second, body: 'two' },
    ]);
  });

  it('a duplicate of a message still queued is a second copy: both are delivered, each deleted by its own handle', async () => {
    const { q } = queue();
    const id = q.send('once');
    expect(q.duplicate(0)).to.equal(id);
    const batch = await q.receive(0);
    expect(batch.map((m) => m.id)).to.deep.equal([id, id]);
    expect(new Set(batch.map((m) => m.handle)).size).to.equal(2);
    expect(await q.delete([batch[0]?.handle as string])).to.deep.equal({ failed: [] });
    expect(q.depth).to.equal(1);
  });

  it('duplicate with nothing that recent returns undefined and queues nothing', () => {
    const { q } = queue();
    expect(q.duplicate(0)).to.equal(undefined);
    q.send('x');
    expect(q.duplicate(1)).to.equal(undefined);
    expect(q.depth).to.equal(1);
  });
});

describe('sim: spendWaitOnEvents and mayPoll', () => {
  const quiet: PollReport = { received: 0, tally: [], warnings: 0 };
  const warning: PollReport = { received: 1, tally: [{ kind: 'interruption-warning', result: 'handled', count: 1 }], warnings: 1 };

  function inbox(clock: SimClock, reports: PollReport[]) {
    const polls: number[] = [];
    return {
      polls,
      poll: async (maxWaitMs: number) => {
        polls.push(maxWaitMs);
        await clock.sleep(1_000);
        return reports.shift() ?? quiet;
      },
    };
  }

  it('a replica that may not poll (no lease) never touches the inbox, runs no cycle, and spends no time', async () => {
    const clock = new SimClock(T0);
    const box = inbox(clock, [warning]);
    let cycles = 0;
    const out = await spendWaitOnEvents({
      inbox: box,
      clock,
      lastCycleAt: T0,
      until: T0 + 60_000,
      mayPoll: () => false,
      cycle: async () => cycles++,
      log: silentLogger(),
    });
    expect(box.polls).to.deep.equal([]);
    expect(out).to.deep.equal({ cycles: 0, failed: 0 });
    expect(cycles).to.equal(0);
    expect(clock.now()).to.equal(T0);
  });

  it('the lease holder polls, and a warning runs a cycle at once (the caller runs it on the clock)', async () => {
    const clock = new SimClock(T0);
    const box = inbox(clock, [warning]);
    const ran: number[] = [];
    const out = await spendWaitOnEvents({
      inbox: box,
      clock,
      lastCycleAt: T0,
      until: T0 + 60_000,
      mayPoll: () => true,
      cycle: async () => ran.push(clock.now()),
      log: silentLogger(),
    });
    expect(out).to.deep.equal({ cycles: 1, failed: 0 });
    expect(ran).to.deep.equal([T0 + 5_000]);
    expect(box.polls.length).to.equal(2);
  });

  it('mayPoll is asked before every poll: a lease lost during the wait ends the polling', async () => {
    const clock = new SimClock(T0);
    const busy: PollReport = { received: 1, tally: [{ kind: 'state-change', result: 'handled', count: 1 }], warnings: 0 };
    const box = inbox(clock, [busy, busy, busy, busy]);
    let asked = 0;
    await spendWaitOnEvents({
      inbox: box,
      clock,
      lastCycleAt: T0,
      until: T0 + 60_000,
      mayPoll: () => ++asked <= 2,
      cycle: async () => undefined,
      log: silentLogger(),
    });
    expect(box.polls.length).to.equal(2);
    expect(asked).to.equal(3);
  });
});
