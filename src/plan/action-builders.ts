import type { LaunchAction, RetireAction, RetireEnd, TerminateAction } from '../domain/actions.js';
import type { Cause } from '../domain/causes.js';
import type { PendingLaunch } from '../domain/snapshot.js';
import type { Instance } from '../domain/types.js';
import type { Candidate } from '../policy/placement.js';

export function launchAction(pool: string, offer: Candidate, name: string, cause: Cause, reason: string, replaces?: string): LaunchAction {
  return {
    kind: 'launch',
    pool,
    region: offer.region,
    az: offer.az,
    subnetId: offer.subnetId,
    instanceType: offer.instanceType,
    lifecycle: offer.lifecycle,
    ami: offer.ami,
    name,
    ...(offer.price !== undefined ? { price: offer.price } : {}),
    ...(offer.maxPrice !== undefined ? { maxPrice: offer.maxPrice } : {}),
    cause,
    reason,
    ...(replaces !== undefined ? { replaces } : {}),
  };
}

/** A slot of a launch sent earlier whose answer never came: re-sent as its call was first sent. */
export function resumeAction(p: PendingLaunch): LaunchAction {
  return {
    kind: 'launch',
    pool: p.pool,
    region: p.region,
    az: p.az,
    subnetId: p.subnetId,
    instanceType: p.instanceType,
    lifecycle: p.lifecycle,
    ami: p.ami,
    name: p.name,
    ...(p.maxPrice !== undefined ? { maxPrice: p.maxPrice } : {}),
    cause: 'resume',
    reason: 'resume: earlier launch was never confirmed',
    ...(p.replaces !== undefined ? { replaces: p.replaces } : {}),
    resumes: p.clientToken,
  };
}

export function terminateAction(
  i: Instance,
  unitPrice: number | undefined,
  cause: Cause,
  reason: string,
  retireEnd?: RetireEnd,
): TerminateAction {
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
    cause,
    reason,
    ...(retireEnd !== undefined ? { retireEnd } : {}),
  };
}

/** A busy worker asked to leave by `deadline` (epoch ms) instead of terminated now. */
export function retireAction(i: Instance, unitPrice: number | undefined, cause: Cause, reason: string, deadline: number): RetireAction {
  return { ...terminateAction(i, unitPrice, cause, reason), kind: 'retire', deadline };
}
