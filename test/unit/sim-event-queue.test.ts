// The simulated queue's SendMessage, at-least-once deliveries and long polls. Simulated.

import { expect } from 'chai';
import { SimCloud } from '../../src/fake-cloud/cloud.js';
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

describe('sim: SimEventQueue long poll', () => {
  it('a receive waits its whole wait on an empty queue, and ends at once when its signal aborts', async () => {
    const { q, clock } = queue();
    await clock.run(() => q.receive(20));
    const waited = clock.now() - T0;
    expect(waited).to.be.at.least(20_000);
    const stop = new AbortController();
    const asked = clock.now();
    const got = await clock.run(async () => {
      void clock.sleep(7_000).then(() => stop.abort());
      return q.receive(20, stop.signal);
    });
    expect(got).to.deep.equal([]);
    // Its first slice of the wait would have run past the abort: it is cut there.
    expect(clock.now() - asked).to.equal(7_000);
  });
});
