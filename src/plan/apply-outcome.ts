import type { Outcome } from '../domain/outcome.js';
import type { PendingLaunch, Snapshot } from '../domain/snapshot.js';

/**
 * The snapshot as it stands after a round of actions, for planning the next round within the
 * same cycle: launched instances join as pending, terminated ones are shutting down, launches
 * whose fate is unknown stay pending launches, and offers that just failed for capacity are kept out.
 */
export function applyOutcome(
  snapshot: Snapshot,
  outcome: Outcome,
  pendingAfter: readonly PendingLaunch[],
  unavailable: Readonly<Record<string, number>>,
): Snapshot {
  const terminated = new Set(outcome.terminations.filter((t) => t.terminated).map((t) => t.action.instanceId));
  const launched = outcome.launches.flatMap((l) => (l.instance ? [l.instance] : []));
  const known = new Set(snapshot.instances.map((i) => i.id));
  const launchedTokens = new Set(outcome.launches.filter((l) => l.instance).map((l) => l.action.clientToken));
  return {
    ...snapshot,
    instances: [
      ...snapshot.instances.map((i) => (terminated.has(i.id) ? { ...i, state: 'shutting-down' as const } : i)),
      ...launched.filter((i) => !known.has(i.id)),
    ],
    pendingLaunches: pendingAfter.filter((p) => !launchedTokens.has(p.clientToken)),
    unavailable,
  };
}
