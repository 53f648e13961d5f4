import type { Outcome } from '../domain/outcome.js';
import type { PendingLaunch, Snapshot } from '../domain/snapshot.js';

/**
 * The snapshot as it stands after a round of actions, for planning the next round within the
 * same cycle: launched instances join as pending, terminated ones are shutting down, the journal's
 * slots still unseen stay pending launches, and offers that just failed for capacity are kept out.
 */
export function applyOutcome(
  snapshot: Snapshot,
  outcome: Outcome,
  pendingAfter: readonly PendingLaunch[],
  unavailable: Readonly<Record<string, number>>,
): Snapshot {
  const terminated = new Set(outcome.terminations.filter((t) => t.terminated).map((t) => t.action.instanceId));
  const known = new Set(snapshot.instances.map((i) => i.id));
  const launched = outcome.launches.flatMap((l) => (l.instance && !known.has(l.instance.id) ? [l.instance] : []));
  return {
    ...snapshot,
    instances: [...snapshot.instances.map((i) => (terminated.has(i.id) ? { ...i, state: 'shutting-down' as const } : i)), ...launched],
    pendingLaunches: pendingAfter,
    terminatedByFleet: new Set([...snapshot.terminatedByFleet, ...terminated]),
    unavailable,
  };
}
