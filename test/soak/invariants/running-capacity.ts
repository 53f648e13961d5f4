import type { Finding, InstanceFact } from './types.js';

export interface RunningCapacityInput {
  readonly pool: string;
  /** the pool's instances when the cycle began and when it ended (every state) */
  readonly before: readonly InstanceFact[];
  readonly after: readonly InstanceFact[];
  readonly drained: ReadonlySet<string>;
  /** instances fleet asked EC2 to terminate during the cycle */
  readonly terminatedByFleet: ReadonlySet<string>;
  /** instances that ended during the cycle by anything else (interruptions, shutdowns, boot failures) */
  readonly endedByOthers: ReadonlySet<string>;
  readonly desiredLow: number;
}

/**
 * Retirements never take running capacity on launchable images below desired: a cycle whose
 * terminations include an instance on a non-drained image leaves running instances on non-drained
 * images ≥ min(desired, what it was before). What others ended during the cycle is not fleet's doing
 * and is counted back.
 */
export function checkRunningCapacity(input: RunningCapacityInput): Finding[] {
  const { pool, drained } = input;
  const launchable = (i: InstanceFact) => !drained.has(i.ami);
  const retired = input.before.filter(
    (i) => input.terminatedByFleet.has(i.id) && launchable(i) && (i.state === 'pending' || i.state === 'running'),
  );
  if (retired.length === 0) return [];
  const runningBefore = input.before.filter((i) => i.state === 'running' && launchable(i));
  const lostToOthers = runningBefore.filter((i) => input.endedByOthers.has(i.id)).length;
  const runningAfter = input.after.filter((i) => i.state === 'running' && launchable(i)).length + lostToOthers;
  const floor = Math.min(input.desiredLow, runningBefore.length);
  if (runningAfter >= floor) return [];
  return [
    {
      invariant: 'running-capacity',
      key: pool,
      detail: `${pool}: retired ${retired.map((i) => i.id).join(', ')}; running on launchable images ${runningBefore.length} → ${runningAfter}${lostToOthers > 0 ? ` (${lostToOthers} lost to others counted back)` : ''}, desired ${input.desiredLow}`,
    },
  ];
}
