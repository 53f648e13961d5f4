import type { LaunchAction, TerminateAction } from '../domain/actions.js';
import type { PendingLaunch } from '../domain/snapshot.js';
import type { Instance } from '../domain/types.js';
import { launchToken } from '../policy/pending-launches.js';
import type { Candidate } from '../policy/placement.js';

export function launchAction(fleet: string, pool: string, now: number, offer: Candidate, name: string, reason: string, replaces?: string): LaunchAction {
  const what = { pool, region: offer.region, subnetId: offer.subnetId, instanceType: offer.instanceType, lifecycle: offer.lifecycle, ami: offer.ami, name };
  return {
    kind: 'launch',
    ...what,
    az: offer.az,
    ...(offer.price !== undefined ? { price: offer.price } : {}),
    ...(offer.maxPrice !== undefined ? { maxPrice: offer.maxPrice } : {}),
    reason,
    clientToken: launchToken(fleet, what, now),
    ...(replaces !== undefined ? { replaces } : {}),
  };
}

/** The same launch again, with its own token: EC2 answers with the instance if it was made. */
export function resumeLaunch(p: PendingLaunch): LaunchAction {
  const { requestedAt: _requestedAt, instanceId: _instanceId, ...spec } = p;
  return { kind: 'launch', ...spec, reason: 'resume: earlier launch was never confirmed' };
}

export function terminateAction(i: Instance, unitPrice: number | undefined, reason: string): TerminateAction {
  return {
    kind: 'terminate',
    pool: i.pool,
    region: i.region,
    az: i.az,
    instanceType: i.instanceType,
    lifecycle: i.lifecycle,
    ami: i.ami,
    name: i.name,
    instanceId: i.id,
    ...(unitPrice !== undefined ? { price: unitPrice } : {}),
    reason,
  };
}
