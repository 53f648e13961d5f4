import type { RetireAction } from '../domain/actions.js';
import type { Outcome } from '../domain/outcome.js';
import type { Instance } from '../domain/types.js';
import type { PendingLaunch, Snapshot } from '../domain/snapshot.js';

/**
 * The snapshot as it stands after a round of actions, for planning the next round within the
 * same cycle: launched instances join as pending, terminated ones are shutting down, asked ones are leaving,
 * replacements re-pointed to an idle worker that stood in replace it, the journal's slots still unseen stay
 * pending launches, and offers that just failed for capacity are kept out.
 */
export function applyOutcome(
  snapshot: Snapshot,
  outcome: Outcome,
  pendingAfter: readonly PendingLaunch[],
  unavailable: Readonly<Record<string, number>>,
): Snapshot {
  const terminated = new Set(outcome.terminations.filter((t) => t.terminated).map((t) => t.action.instanceId));
  const known = new Set(snapshot.instances.map((i) => i.id));
  const asked = new Map((outcome.retirements ?? []).filter((r) => r.asked).map((r) => [r.action.instanceId, r.action]));
  const launched = outcome.launches.flatMap((l) => (l.instance && !known.has(l.instance.id) ? [l.instance] : []));
  // replacement id → the idle worker its pair now replaces, as its tag says since this round
  const repointed = new Map(
    outcome.terminations.flatMap((t) =>
      t.repointed && t.action.standsInFor ? [[t.action.standsInFor.replacement, t.action.instanceId] as const] : [],
    ),
  );
  return {
    ...snapshot,
    instances: [
      ...snapshot.instances.map((i) =>
        terminated.has(i.id)
          ? { ...i, state: 'shutting-down' as const }
          : asked.has(i.id)
            ? retiring(i, asked.get(i.id) as RetireAction)
            : repointed.has(i.id)
              ? { ...i, replaces: repointed.get(i.id) }
              : i,
      ),
      ...launched,
    ],
    pendingLaunches: pendingAfter,
    terminatedByFleet: new Set([...snapshot.terminatedByFleet, ...terminated]),
    unavailable,
  };
}

/** A worker just asked to leave, as its tags now say. */
function retiring(i: Instance, a: RetireAction): Instance {
  return { ...i, retireAt: a.deadline, retireCause: a.cause };
}
