import { createHash } from 'node:crypto';
import type { LaunchRequest, LaunchSlot } from '../cloud/port.js';
import { launchTags, tagsFit } from '../cloud/tags.js';
import type { LaunchAction } from '../domain/actions.js';
import { groupBy } from '../domain/group-by.js';
import type { PoolPolicy } from '../domain/policy.js';
import { renderUserData, usesName } from '../policy/user-data.js';
import type { JournaledCall } from './journal.js';

/** One RunInstances call and the planned slots it carries, in launch-index order. */
export interface LaunchCall {
  readonly request: LaunchRequest;
  readonly actions: readonly LaunchAction[];
  /** a journaled call sent again exactly as it was first sent */
  readonly resend: boolean;
}

export interface LaunchCallInput {
  readonly fleet: string;
  readonly policies: ReadonlyMap<string, PoolPolicy>;
  /** the journaled call of an earlier send, when it may be re-sent */
  readonly journaled: (clientToken: string) => JournaledCall | undefined;
  /** epoch ms: part of each new call's token, so a later launch into a reused name gets a new one */
  readonly now: number;
  /** instances a region's launch bucket allows now: new slots beyond it wait for the next cycle */
  readonly launchCapacity?: (region: string) => number;
}

export interface LaunchCalls {
  readonly calls: LaunchCall[];
  /** slots that cannot be sent (no policy, or a resume whose request is not journaled) */
  readonly unsendable: { readonly action: LaunchAction; readonly why: string }[];
  /** new slots beyond what the launch bucket allows now: planned again next cycle, never waited for */
  readonly deferred: LaunchAction[];
  /** journaled calls whose user data the policy no longer renders as sent: never to be re-sent */
  readonly userDataChanged: string[];
}

/**
 * Turn the plan's launch slots into calls. Slots of one offer, image and launch spec share calls of
 * growing size (see growingBatches), except where the user data names the instance (`{name}`: each
 * such instance needs its own user data, so its own call). A resumed slot goes out in the journaled
 * call it belonged to, exactly as it was first sent.
 */
export function launchCalls(actions: readonly LaunchAction[], input: LaunchCallInput): LaunchCalls {
  const calls: LaunchCall[] = [];
  const unsendable: LaunchCalls['unsendable'] = [];

  const userDataChanged: string[] = [];
  const resumes = groupBy(
    actions.filter((a) => a.resumes !== undefined),
    (a) => a.resumes as string,
  );
  for (const [token, slots] of resumes) {
    const journaled = input.journaled(token);
    const request = journaled
      ? resentRequest(journaled, input.policies.get(journaled.request.pool))
      : 'its earlier call is not journaled whole';
    if (typeof request === 'string') {
      if (journaled) userDataChanged.push(token);
      for (const action of slots) unsendable.push({ action, why: request });
      continue;
    }
    const order = new Map(request.slots.map((s, i) => [s.name, i]));
    calls.push({ request, actions: [...slots].sort((a, b) => (order.get(a.name) ?? 0) - (order.get(b.name) ?? 0)), resend: true });
  }

  // A cycle never waits on the launch bucket: new slots beyond what it allows now are planned
  // again next cycle (re-sent calls go first: they are already journaled).
  const deferred: LaunchAction[] = [];
  const used = new Map<string, number>();
  for (const call of calls) used.set(call.request.region, (used.get(call.request.region) ?? 0) + call.request.slots.length);
  const fresh = actions.filter((a) => {
    if (a.resumes !== undefined) return false;
    if (input.launchCapacity) {
      const taken = used.get(a.region) ?? 0;
      if (taken >= input.launchCapacity(a.region)) {
        deferred.push(a);
        return false;
      }
      used.set(a.region, taken + 1);
    }
    return true;
  });
  const groups = groupBy(fresh, (a) => [a.pool, a.region, a.subnetId, a.instanceType, a.lifecycle, a.ami, a.maxPrice ?? ''].join('\u0000'));
  let sequence = 0;
  for (const group of groups.values()) {
    const policy = input.policies.get((group[0] as LaunchAction).pool);
    if (!policy) {
      for (const action of group) unsendable.push({ action, why: `pool ${action.pool} has no policy` });
      continue;
    }
    const solo = policy.userData !== undefined && usesName(policy.userData);
    const fits = (slots: readonly LaunchAction[]) =>
      tagsFit({ fleet: input.fleet, pool: policy.pool, slots: slots.map(slotOf) }, policy.names);
    for (const batch of growingBatches(group, solo ? () => false : fits)) {
      calls.push({ request: buildRequest(batch, policy, input.fleet, input.now, sequence++), actions: batch, resend: false });
    }
  }
  return { calls, unsendable, deferred, userDataChanged };
}

/**
 * A journaled call as it was first sent: its user data (never stored) rendered again from the policy.
 * When that is not what was sent (the policy changed meanwhile), the token cannot be reused: EC2 would
 * refuse it, or launch other user data than the first call's. Returns why then.
 */
export function resentRequest(sent: JournaledCall, policy: PoolPolicy | undefined): LaunchRequest | string {
  if (sent.userDataSha256 === undefined) return sent.request;
  const first = sent.request.slots[0];
  const r = sent.request;
  const userData =
    policy?.userData !== undefined && first
      ? renderUserData(policy.userData, { name: first.name, pool: r.pool, region: r.region, az: r.az })
      : undefined;
  if (userData === undefined || userDataDigest(userData) !== sent.userDataSha256) {
    return "the pool's user data changed since the call was sent: not re-sent under its token; waiting for its instances to be listed or for the visibility timeout";
  }
  return { ...r, userData };
}

/** SHA-256 (hex) of rendered user data: what the journal keeps of it. */
export function userDataDigest(userData: string): string {
  return createHash('sha256').update(userData, 'utf8').digest('hex');
}

/**
 * Calls of 1, 2, 4, ... slots (each all or nothing): the first probes the offer, so an offer out of
 * capacity costs one refused call, and an offer with room fills in a handful (1,000 in 10 calls). A
 * batch is cut short where its slots would not fit in a tag (`fits`).
 */
export function growingBatches<T>(items: readonly T[], fits: (batch: readonly T[]) => boolean): T[][] {
  const batches: T[][] = [];
  let next = 0;
  for (let size = 1; next < items.length; size *= 2) {
    let batch = items.slice(next, next + size);
    while (batch.length > 1 && !fits(batch)) batch = batch.slice(0, Math.ceil(batch.length / 2));
    batches.push(batch);
    next += batch.length;
    if (batch.length < size && next < items.length) size = batch.length;
  }
  return batches;
}

function slotOf(a: LaunchAction): LaunchSlot {
  // Only a replacement keeps its cause: while its pair is in flight, the cause says which budget it uses.
  return { name: a.name, ...(a.replaces !== undefined ? { replaces: a.replaces, cause: a.cause } : {}) };
}

/** The request of a new call: where and what from the plan, how (groups, key, profile, user data) from the policy. */
export function buildRequest(
  slots: readonly LaunchAction[],
  policy: PoolPolicy,
  fleet: string,
  now: number,
  sequence: number,
): LaunchRequest {
  const first = slots[0] as LaunchAction;
  const placement = policy.regions[first.region];
  const request: Omit<LaunchRequest, 'clientToken'> = {
    fleet,
    pool: first.pool,
    region: first.region,
    az: first.az,
    subnetId: first.subnetId,
    securityGroups: placement?.securityGroups ?? [],
    ...(placement?.publicIp !== undefined ? { publicIp: placement.publicIp } : {}),
    instanceType: first.instanceType,
    lifecycle: first.lifecycle,
    ami: first.ami,
    ...(first.maxPrice !== undefined ? { maxPrice: first.maxPrice } : {}),
    ...(policy.keyName ? { keyName: policy.keyName } : {}),
    ...(policy.instanceProfile ? { instanceProfile: policy.instanceProfile } : {}),
    ...(policy.userData !== undefined
      ? { userData: renderUserData(policy.userData, { name: first.name, pool: first.pool, region: first.region, az: first.az }) }
      : {}),
    slots: slots.map(slotOf),
    tags: launchTags({ fleet, pool: first.pool, slots: slots.map(slotOf) }, policy.names),
  };
  return { ...request, clientToken: launchToken(request, now, sequence) };
}

/**
 * A call's idempotency token: derived from everything it asks for and when it was planned. It is
 * journaled with the call, so a retried or resumed call reuses it; a new call (another offer for the
 * same names, a later launch into reused names) gets a new one: EC2 refuses a token reused with
 * other parameters.
 */
export function launchToken(request: Omit<LaunchRequest, 'clientToken'>, plannedAt: number, sequence: number): string {
  const digest = createHash('sha256')
    .update(JSON.stringify([request, plannedAt, sequence]))
    .digest('hex');
  return `fleet-${digest.slice(0, 40)}`;
}
