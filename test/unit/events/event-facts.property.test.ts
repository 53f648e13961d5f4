import { expect } from 'chai';
import fc from 'fast-check';
import { type Ec2Event, NO_EVENT_FACTS } from '../../../src/domain/events.js';
import type { InstanceState } from '../../../src/domain/types.js';
import { EVENT_FACTS_TTL_MS, mergeFacts } from '../../../src/events/facts.js';

const NOW = Date.parse('2026-11-20T12:00:00Z');
const STATES: InstanceState[] = ['pending', 'running', 'stopping', 'stopped', 'shutting-down', 'terminated'];

// Few instances and coarse times, so that collisions (same instance, same second) are common.
const eventArb: fc.Arbitrary<Ec2Event> = fc
  .record({
    kind: fc.constantFrom('interruption-warning', 'rebalance-recommendation', 'state-change'),
    instance: fc.integer({ min: 0, max: 4 }),
    region: fc.constantFrom('us-east-1', 'us-west-2'),
    secondsAgo: fc.integer({ min: 0, max: 2 * 3600 }).map((s) => s - (s % 30)),
    state: fc.constantFrom(...STATES),
    hibernate: fc.boolean(),
  })
  .map((r): Ec2Event => {
    const time = NOW - r.secondsAgo * 1000;
    const base = { instanceId: `i-0000000000000000${r.instance}`, region: r.region, time };
    if (r.kind === 'state-change') return { ...base, kind: 'state-change', state: r.state };
    if (r.kind === 'rebalance-recommendation') return { ...base, kind: 'rebalance-recommendation' };
    return {
      ...base,
      kind: 'interruption-warning',
      action: r.hibernate ? 'hibernate' : 'terminate',
      actionTime: r.hibernate ? time : time + 120_000,
    };
  });

/** The events, shuffled and with some repeated: what SQS may deliver for them. */
const deliveryArb = fc.array(eventArb, { maxLength: 30 }).chain((events) =>
  fc
    .tuple(
      fc.shuffledSubarray(events, { minLength: 0, maxLength: events.length }),
      fc.array(fc.nat(), { minLength: events.length, maxLength: events.length }),
    )
    .map(([again, keys]) => {
      const all = [...events, ...again];
      const order = all.map((e, i) => ({ e, k: keys[i % Math.max(1, keys.length)] ?? 0, i }));
      order.sort((a, b) => a.k - b.k || a.i - b.i);
      return { events, delivered: order.map((o) => o.e) };
    }),
);

/** Split into consecutive batches at the given cut points. */
function batches<T>(items: readonly T[], cuts: readonly number[]): T[][] {
  const points = [...new Set(cuts.map((c) => c % (items.length + 1)))].sort((a, b) => a - b);
  const out: T[][] = [];
  let from = 0;
  for (const p of [...points, items.length]) {
    out.push(items.slice(from, p));
    from = p;
  }
  return out;
}

describe('events: mergeFacts properties', () => {
  it('any order and duplication of the same events gives the same facts', () => {
    fc.assert(
      fc.property(deliveryArb, ({ events, delivered }) => {
        expect(mergeFacts(NO_EVENT_FACTS, delivered, NOW)).to.deep.equal(mergeFacts(NO_EVENT_FACTS, events, NOW));
      }),
    );
  });

  it('merging in batches, in any order, equals merging at once; and the result serialises the same', () => {
    fc.assert(
      fc.property(deliveryArb, fc.array(fc.nat(), { maxLength: 5 }), ({ events, delivered }, cuts) => {
        let facts = NO_EVENT_FACTS;
        for (const batch of batches(delivered, cuts).reverse()) facts = mergeFacts(facts, batch, NOW);
        const atOnce = mergeFacts(NO_EVENT_FACTS, events, NOW);
        expect(JSON.stringify(facts)).to.equal(JSON.stringify(atOnce));
      }),
    );
  });

  it('merging the same events again changes nothing', () => {
    fc.assert(
      fc.property(fc.array(eventArb, { maxLength: 30 }), (events) => {
        const once = mergeFacts(NO_EVENT_FACTS, events, NOW);
        expect(mergeFacts(once, events, NOW)).to.deep.equal(once);
      }),
    );
  });

  it('the state kept is the one of the latest state change; nothing older than the TTL is kept', () => {
    fc.assert(
      fc.property(fc.array(eventArb, { maxLength: 30 }), (events) => {
        const facts = mergeFacts(NO_EVENT_FACTS, events, NOW);
        const oldest = NOW - EVENT_FACTS_TTL_MS;
        for (const [id, fact] of Object.entries(facts.states)) {
          const latest = Math.max(...events.filter((e) => e.kind === 'state-change' && e.instanceId === id).map((e) => e.time));
          expect(fact.at).to.equal(latest);
          expect(
            events.some((e) => e.kind === 'state-change' && e.instanceId === id && e.time === latest && e.state === fact.state),
          ).to.equal(true);
        }
        for (const section of [facts.warned, facts.rebalance, facts.states])
          for (const fact of Object.values(section)) expect(fact.at).to.be.at.least(oldest);
        // Every fresh event is represented.
        for (const e of events.filter((x) => x.time >= oldest)) {
          const section =
            e.kind === 'interruption-warning' ? facts.warned : e.kind === 'rebalance-recommendation' ? facts.rebalance : facts.states;
          expect(section).to.have.property(e.instanceId);
        }
      }),
    );
  });
});

describe('events: mergeFacts examples', () => {
  const id = 'i-0123456789abcdef0';
  const at = (minutesAgo: number) => NOW - minutesAgo * 60_000;

  it('an older state change delivered late never moves the state back', () => {
    const running: Ec2Event = { kind: 'state-change', instanceId: id, region: 'us-east-1', time: at(10), state: 'running' };
    const ending: Ec2Event = { kind: 'state-change', instanceId: id, region: 'us-east-1', time: at(2), state: 'shutting-down' };
    const facts = mergeFacts(mergeFacts(NO_EVENT_FACTS, [ending], NOW), [running], NOW);
    expect(facts.states[id]).to.deep.equal({ state: 'shutting-down', at: at(2), region: 'us-east-1' });
  });

  it('two state changes stamped with the same second: the later in an instance life wins', () => {
    const a: Ec2Event = { kind: 'state-change', instanceId: id, region: 'us-east-1', time: at(1), state: 'terminated' };
    const b: Ec2Event = { ...a, state: 'shutting-down' };
    expect(mergeFacts(NO_EVENT_FACTS, [a, b], NOW).states[id]?.state).to.equal('terminated');
    expect(mergeFacts(NO_EVENT_FACTS, [b, a], NOW).states[id]?.state).to.equal('terminated');
  });

  it('a warning keeps its reclaim time; facts older than the TTL are pruned, a custom TTL too', () => {
    const warning: Ec2Event = {
      kind: 'interruption-warning',
      instanceId: id,
      region: 'us-west-2',
      time: at(30),
      action: 'terminate',
      actionTime: at(28),
    };
    const facts = mergeFacts(NO_EVENT_FACTS, [warning], NOW);
    expect(facts.warned).to.deep.equal({ [id]: { at: at(30), actionTime: at(28), region: 'us-west-2' } });
    expect(mergeFacts(facts, [], at(-31)).warned).to.deep.equal({});
    expect(mergeFacts(facts, [], NOW, 10 * 60_000).warned).to.deep.equal({});
    expect(mergeFacts(NO_EVENT_FACTS, [{ ...warning, time: at(61) }], NOW).warned).to.deep.equal({});
  });
});
