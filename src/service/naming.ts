import type { Logger } from 'pino';
import { classify } from '../cloud/errors.js';
import type { GuardedCloud } from '../cloud/guarded-cloud.js';
import type { LaunchSlot } from '../cloud/port.js';
import { groupBy } from '../domain/group-by.js';
import { type Instance, isLive } from '../domain/types.js';

// The `Name` tag of a batch's instances. A batched launch cannot give each instance its own Name at
// launch (one set of tags per call), so its slot names travel in `fleet:names`, which is all a worker
// needs at boot, and `Name` (for the console and everything else that reads it) is set afterwards,
// one CreateTags per instance. This is bookkeeping, not a decision: it lives here, not in the planner.
// It never waits for the mutate bucket: what the bucket does not hold now is left to a later cycle,
// which finds those instances listed without `Name` (Instance.nameTagMissing).

/** One instance whose `Name` is to be set, with the slot it holds. */
export interface NameTag {
  readonly region: string;
  readonly instanceId: string;
  readonly slot: LaunchSlot;
}

export interface Naming {
  readonly named: number;
  readonly failed: number;
  /** not sent: the mutate bucket (or the cycle's share) was used up; a later cycle names them */
  readonly left: number;
}

/**
 * Most names a cycle sets per region for instances listed without one: a burst of 1,000 launches
 * is named over a few cycles while the mutate bucket keeps room for everything else.
 */
export const NAMES_PER_CYCLE = 100;

/** Live instances listed without `Name` (their batch's naming failed or was deferred), oldest first. */
export function unnamedInstances(instances: readonly Instance[], skip: ReadonlySet<string> = new Set()): NameTag[] {
  return instances
    .filter((i) => i.nameTagMissing === true && isLive(i) && i.name !== '' && !skip.has(i.id))
    .sort((a, b) => a.launchTime - b.launchTime || a.id.localeCompare(b.id))
    .map((i) => ({
      region: i.region,
      instanceId: i.id,
      slot: {
        name: i.name,
        ...(i.replaces !== undefined ? { replaces: i.replaces } : {}),
        ...(i.cause !== undefined ? { cause: i.cause } : {}),
      },
    }));
}

/**
 * Set `Name` on these instances: per region, as many as the mutate bucket holds right now, and at
 * most `limit`. Each call is fenced like every mutating call (GuardedCompute.nameInstance). Best
 * effort: a failure is logged, never thrown; an instance left unnamed is named by a later cycle.
 */
export async function setNames(
  wanted: readonly NameTag[],
  cloud: GuardedCloud,
  log: Logger,
  limit = Number.POSITIVE_INFINITY,
): Promise<Naming> {
  const results = await Promise.all(
    [...groupBy(wanted, (w) => w.region)].map(async ([region, tags]) => {
      const compute = cloud.compute(region);
      const now = tags.slice(0, Math.max(0, Math.min(limit, compute.nameCapacityNow())));
      const outcomes = await Promise.all(
        now.map(async ({ instanceId, slot }) => {
          try {
            await compute.nameInstance(instanceId, slot);
            return true;
          } catch (e) {
            const error = classify(e);
            log.warn(
              { region, instance: instanceId, name: slot.name, code: error.code, error: error.message },
              'Name tag not set; a later cycle sets it',
            );
            return false;
          }
        }),
      );
      const named = outcomes.filter(Boolean).length;
      const left = tags.length - now.length;
      if (left > 0) log.info({ region, named, left }, 'Name tags left to a later cycle (mutate bucket)');
      return { named, failed: now.length - named, left };
    }),
  );
  return results.reduce((sum, r) => ({ named: sum.named + r.named, failed: sum.failed + r.failed, left: sum.left + r.left }), {
    named: 0,
    failed: 0,
    left: 0,
  });
}
