// Folding EC2 events into the facts fleet keeps (events.json). SQS delivers at least once and in
// no particular order, so the fold is a join: duplicates change nothing, order changes nothing,
// and of two events about one instance the later one wins.

import type { Ec2Event, EventFacts, RebalanceFact, StateFact, WarnedFact } from '../domain/events.js';
import type { InstanceState } from '../domain/types.js';
import { MAX_EVENT_SKEW_MS } from './parse.js';

/** How long a fact is kept: by then DescribeInstances has told fleet the same, and the document stays small. */
export const EVENT_FACTS_TTL_MS = 3600_000;

/**
 * Facts kept per kind (warned, rebalance, states), the newest first: events.json stays bounded
 * whatever a queue delivers within the TTL (about 100 bytes a fact, so at most a few MB).
 */
export const MAX_FACTS_PER_KIND = 10_000;

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
 * The facts after `events`: facts (and events) older than `ttlMs` before `now`, or dated beyond
 * MAX_EVENT_SKEW_MS after it, are dropped, and each kind keeps its MAX_FACTS_PER_KIND newest.
 * Pure; `mergeFacts(mergeFacts(f, a, now), b, now)` equals `mergeFacts(f, [...b, ...a], now)`.
 */
export function mergeFacts(facts: EventFacts, events: readonly Ec2Event[], now: number, ttlMs = EVENT_FACTS_TTL_MS): EventFacts {
  const oldest = now - ttlMs;
  const newest = now + MAX_EVENT_SKEW_MS;
  // Kept facts out of range go first: a fact dated ahead would otherwise win the join and then vanish.
  const warned: Record<string, WarnedFact> = fresh(facts.warned, oldest, newest);
  const rebalance: Record<string, RebalanceFact> = fresh(facts.rebalance, oldest, newest);
  const states: Record<string, StateFact> = fresh(facts.states, oldest, newest);
  for (const e of events) {
    // Dropped before the join as well as after it, so that the result does not depend on batching.
    if (e.time < oldest || e.time > newest) continue;
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
  return { warned: fresh(warned, oldest, newest), rebalance: fresh(rebalance, oldest, newest), states: fresh(states, oldest, newest) };
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

/**
 * Entries from `oldest` to `newest`, at most MAX_FACTS_PER_KIND of them (the latest; ties by id, so
 * the fold stays a join), keys sorted so that equal facts serialise equally.
 */
function fresh<T extends { readonly at: number }>(entries: Readonly<Record<string, T>>, oldest: number, newest: number): Record<string, T> {
  let ids = Object.keys(entries).filter((id) => {
    const at = (entries[id] as T).at;
    return at >= oldest && at <= newest;
  });
  if (ids.length > MAX_FACTS_PER_KIND) {
    ids = ids.sort((a, b) => (entries[b] as T).at - (entries[a] as T).at || byText(a, b)).slice(0, MAX_FACTS_PER_KIND);
  }
  const out: Record<string, T> = {};
  for (const id of ids.sort()) out[id] = entries[id] as T;
  return out;
}
