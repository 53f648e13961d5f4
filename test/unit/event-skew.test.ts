import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EventQueue, QueueMessage } from '../../src/cloud/port.js';
import type { Ec2Event, EventFacts } from '../../src/domain/events.js';
import { NO_EVENT_FACTS } from '../../src/domain/events.js';
import { MAX_FACTS_PER_KIND, mergeFacts } from '../../src/events/facts.js';
import { MAX_EVENT_SKEW_MS, parseEventMessage } from '../../src/events/parse.js';
import { EventInbox } from '../../src/service/event-inbox.js';
import { LISTING_LAG_MS, applyStateEvents } from '../../src/service/observe.js';
import { EVENTS_DOC } from '../../src/service/state-docs.js';
import { DirectoryStateStore } from '../../src/shared/state-store.js';
import { T0, instance } from '../support/builders.js';
import { stateChange } from '../support/ec2-events.js';
import { capturedLogger } from '../support/log-capture.js';

const iso = (ms: number) => new Date(ms).toISOString();
const ID = 'i-0123456789abcdef0';

/** A queue holding the given bodies once; deletions are recorded. */
function queueOf(bodies: readonly string[]): EventQueue & { deleted: string[] } {
  let pending: QueueMessage[] = bodies.map((body, n) => ({ id: `m${n}`, body, handle: `h${n}` }));
  const deleted: string[] = [];
  return {
    url: 'https://sqs.us-east-1.amazonaws.com/123456789012/fleet-events',
    deleted,
    receive: async () => {
      const out = pending;
      pending = [];
      return out;
    },
    delete: async (handles) => {
      deleted.push(...handles);
      return { failed: [] };
    },
  };
}

describe('events dated in the future', () => {
  it('parse: an event more than the skew ahead of now is dropped with a reason; within the skew it is read', () => {
    const ahead = parseEventMessage(stateChange(ID, 'terminated', '2099-01-01T00:00:00Z'), T0);
    expect(ahead).to.include({ ok: false, result: 'malformed' });
    expect((ahead as { reason: string }).reason).to.match(/"time" 2099-01-01T00:00:00\.000Z is in the future/);
    expect(parseEventMessage(stateChange(ID, 'terminated', iso(T0 + MAX_EVENT_SKEW_MS - 1_000)), T0)).to.include({ ok: true });
  });

  it('the inbox logs the skip, records nothing, and deletes the message', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fleet-skew-'));
    try {
      const state = new DirectoryStateStore(dir);
      const { log, lines } = capturedLogger();
      const queue = queueOf([stateChange(ID, 'terminated', '2099-01-01T00:00:00Z')]);
      const inbox = new EventInbox({ queue, state, clock: { now: () => T0, sleep: async () => undefined }, log });
      const report = await inbox.poll(0);
      expect(report.tally).to.deep.equal([{ kind: 'unknown', result: 'malformed', count: 1 }]);
      expect(await state.read(EVENTS_DOC)).to.equal(undefined);
      expect(queue.deleted).to.deep.equal(['h0']);
      expect(
        lines()
          .filter((l) => l.msg === 'event message dropped')
          .map((l) => l.reason),
      ).to.have.length(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('mergeFacts drops a future fact already in events.json, so it cannot outrank real events until its date', () => {
    const stored: EventFacts = {
      ...NO_EVENT_FACTS,
      states: { [ID]: { state: 'terminated', at: Date.parse('2099-01-01T00:00:00Z'), region: 'us-east-1' } },
    };
    const running: Ec2Event = { kind: 'state-change', instanceId: ID, region: 'us-east-1', time: T0 - 1_000, state: 'running' };
    expect(mergeFacts(stored, [running], T0).states).to.deep.equal({ [ID]: { state: 'running', at: T0 - 1_000, region: 'us-east-1' } });
  });
});

describe('a state fact against the listing', () => {
  const fact = (at: number) => ({ [ID]: { state: 'terminated' as const, at, region: 'us-east-1' } });
  const running = instance({ id: ID, state: 'running' });

  it('ends a live instance while the listing may still lag the event', () => {
    const [i] = applyStateEvents([running], fact(T0 - 60_000), T0);
    expect(i).to.include({ state: 'terminated', endedAt: T0 - 60_000 });
  });

  it('does not hide an instance the listing still shows running well after the event', () => {
    const [i] = applyStateEvents([running], fact(T0 - LISTING_LAG_MS - 1_000), T0);
    expect(i).to.deep.equal(running);
  });

  it('ignores a fact dated in the future', () => {
    const [i] = applyStateEvents([running], fact(Date.parse('2099-01-01T00:00:00Z')), T0);
    expect(i).to.deep.equal(running);
  });
});

describe('events.json is bounded', () => {
  it(`keeps the ${MAX_FACTS_PER_KIND} newest facts of a kind, whatever the batching`, () => {
    const events: Ec2Event[] = Array.from({ length: MAX_FACTS_PER_KIND + 50 }, (_, n) => ({
      kind: 'rebalance-recommendation',
      instanceId: `i-${n.toString(16).padStart(17, '0')}`,
      region: 'us-east-1',
      time: T0 - 600_000 + n,
    }));
    const once = mergeFacts(NO_EVENT_FACTS, events, T0);
    expect(Object.keys(once.rebalance)).to.have.length(MAX_FACTS_PER_KIND);
    expect(Math.min(...Object.values(once.rebalance).map((f) => f.at))).to.equal(T0 - 600_000 + 50);
    const twice = mergeFacts(mergeFacts(NO_EVENT_FACTS, events.slice(0, 5_000), T0), events.slice(5_000), T0);
    expect(JSON.stringify(twice)).to.equal(JSON.stringify(once));
  });
});
