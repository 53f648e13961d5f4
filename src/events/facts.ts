// Folding EC2 events into the facts fleet keeps (events.json). SQS delivers at least once and in
// no particular order, so the fold is a join: duplicates change nothing, order changes nothing,
// and of two events about one instance the later one wins.

import type { Ec2Event, EventFacts, RebalanceFact, StateFact, WarnedFact } from '../domain/events.js';
import type { InstanceState } from '../domain/types.js';

/** How long a fact is kept: by then DescribeInstances has told fleet the same, and the document stays small. */
export const EVENT_FACTS_TTL_MS = 3600_000;

/** A state's place in an instance's life, to order two state changes EventBridge stamped with the same second. */
const LIFE_ORDER: Readonly<Record<InstanceState, number>> = {
  pending: 0,
  running: 1,
  stopping: 2,
  stopped: 3,
  'shutting-down': 4,
  terminated: 5,
};

/**
 * The facts after `events`: facts (and events) older than `ttlMs` before `now` are dropped.
 * Pure; `mergeFacts(mergeFacts(f, a, now), b, now)` equals `mergeFacts(f, [...b, ...a], now)`.
 */
export function mergeFacts(facts: EventFacts, events: readonly Ec2Event[], now: number, ttlMs = EVENT_FACTS_TTL_MS): EventFacts {
  const oldest = now - ttlMs;
  const warned: Record<string, WarnedFact> = { ...facts.warned };
  const rebalance: Record<string, RebalanceFact> = { ...facts.rebalance };
  const states: Record<string, StateFact> = { ...facts.states };
  for (const e of events) {
    // Dropped before the join as well as after it, so that the result does not depend on batching.
    if (e.time < oldest) continue;
    const id = e.instanceId;
    if (e.kind === 'interruption-warning') {
      const fact: WarnedFact = { at: e.time, ...(e.actionTime !== undefined ? { actionTime: e.actionTime } : {}), region: e.region };
      warned[id] = later(warned[id], fact, compareWarned);
    } else if (e.kind === 'rebalance-recommendation') {
      rebalance[id] = later(rebalance[id], { at: e.time, region: e.region }, compareRebalance);
    } else if (e.state !== undefined) {
      states[id] = later(states[id], { state: e.state, at: e.time, region: e.region }, compareState);
    }
  }
  return { warned: fresh(warned, oldest), rebalance: fresh(rebalance, oldest), states: fresh(states, oldest) };
}

/** The greater of two facts under a total order, so the join is commutative, associative and idempotent. */
function later<T>(a: T | undefined, b: T, compare: (x: T, y: T) => number): T {
  return a === undefined || compare(b, a) > 0 ? b : a;
}

function compareWarned(x: WarnedFact, y: WarnedFact): number {
  // Same moment: the earlier reclaim time is the safer belief.
  return x.at - y.at || (y.actionTime ?? Infinity) - (x.actionTime ?? Infinity) || byText(y.region, x.region);
}

function compareRebalance(x: RebalanceFact, y: RebalanceFact): number {
  return x.at - y.at || byText(y.region, x.region);
}

function compareState(x: StateFact, y: StateFact): number {
  return x.at - y.at || LIFE_ORDER[x.state] - LIFE_ORDER[y.state] || byText(y.region, x.region);
}

function byText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Entries at or after `oldest`, keys sorted so that equal facts serialise equally. */
function fresh<T extends { readonly at: number }>(entries: Readonly<Record<string, T>>, oldest: number): Record<string, T> {
  const out: Record<string, T> = {};
  for (const id of Object.keys(entries).sort()) {
    const entry = entries[id] as T;
    if (entry.at >= oldest) out[id] = entry;
  }
  return out;
}
