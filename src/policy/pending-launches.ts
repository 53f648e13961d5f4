import { createHash } from 'node:crypto';
import type { PendingLaunch } from '../domain/snapshot.js';
import type { LaunchAction } from '../domain/actions.js';
import type { LaunchOutcome } from '../domain/outcome.js';
import type { Instance } from '../domain/types.js';

/**
 * The idempotency token of one launch: derived from what is launched where, under which name,
 * and when it was planned. It is stored with the pending launch, so a retried or resumed call
 * reuses it; another offer tried for the same name, or a later launch into a reused name, gets
 * a new one (EC2 refuses a token reused with other parameters).
 */
export function launchToken(fleet: string, launch: Pick<LaunchAction, 'pool' | 'name' | 'region' | 'subnetId' | 'instanceType' | 'lifecycle' | 'ami'>, plannedAt: number): string {
  const identity = [fleet, launch.pool, launch.name, launch.region, launch.subnetId, launch.instanceType, launch.lifecycle, launch.ami, plannedAt];
  const digest = createHash('sha256').update(identity.join('\u0000')).digest('hex');
  return `fleet-${digest.slice(0, 40)}`;
}

export interface SettledLaunches {
  /** not visible yet: still counted as capacity */
  readonly pending: PendingLaunch[];
  /** now visible as instances */
  readonly seen: PendingLaunch[];
  /** never became visible within the timeout: given up */
  readonly expired: PendingLaunch[];
}

/** Match pending launches against the instances the cloud now lists. */
export function settlePendingLaunches(
  launches: readonly PendingLaunch[],
  instances: readonly Instance[],
  now: number,
  visibilityTimeoutMs: number,
): SettledLaunches {
  const tokens = new Set(instances.map((i) => i.clientToken).filter((t): t is string => !!t));
  const ids = new Set(instances.map((i) => i.id));
  const settled: SettledLaunches = { pending: [], seen: [], expired: [] };
  for (const launch of launches) {
    if (tokens.has(launch.clientToken) || (launch.instanceId !== undefined && ids.has(launch.instanceId))) {
      settled.seen.push(launch);
    } else if (now - launch.requestedAt > visibilityTimeoutMs) {
      settled.expired.push(launch);
    } else {
      settled.pending.push(launch);
    }
  }
  return settled;
}

/** The pending launch a launch action leaves behind until the cloud lists its instance. */
export function pendingFor(action: LaunchAction, requestedAt: number): PendingLaunch {
  const { kind: _kind, reason: _reason, ...spec } = action;
  return { ...spec, requestedAt };
}

/**
 * Pending launches after some launch calls: accepted ones learn their instance id, refused ones
 * are dropped, and ones whose retries ran out stay unconfirmed so the next cycle resumes them
 * with the same token.
 */
export function afterLaunches(pending: readonly PendingLaunch[], outcomes: readonly LaunchOutcome[]): PendingLaunch[] {
  const byToken = new Map(outcomes.map((o) => [o.action.clientToken, o]));
  const out: PendingLaunch[] = [];
  for (const p of pending) {
    const outcome = byToken.get(p.clientToken);
    if (!outcome) out.push(p);
    else if (outcome.instance) out.push({ ...p, instanceId: outcome.instance.id });
    else if (outcome.failure?.kind === 'retryable') out.push(p);
  }
  return out;
}
