import type { Logger } from 'pino';
import { type CloudError, classify } from '../cloud/errors.js';
import type { Cloud, LaunchRequest } from '../cloud/port.js';
import type { Action, LaunchAction, TerminateAction } from '../domain/actions.js';
import type { Failure, LaunchOutcome, Outcome, TerminateOutcome } from '../domain/outcome.js';
import { groupBy } from '../domain/group-by.js';
import type { PoolPolicy } from '../domain/policy.js';
import { renderUserData } from '../policy/user-data.js';

export interface ExecuteContext {
  readonly cloud: Cloud;
  readonly fleet: string;
  readonly policies: ReadonlyMap<string, PoolPolicy>;
  readonly log: Logger;
}

/** The fields of an action's log line: one line per action, naming pool, instance and reason. */
export function actionFields(a: Action): Record<string, unknown> {
  return a.kind === 'launch'
    ? { pool: a.pool, name: a.name, region: a.region, az: a.az, instanceType: a.instanceType, lifecycle: a.lifecycle, ami: a.ami, price: a.price, reason: a.reason }
    : { pool: a.pool, instance: a.instanceId, name: a.name, region: a.region, lifecycle: a.lifecycle, reason: a.reason };
}

export function failureOf(error: CloudError): Failure {
  const kind = error.errorClass === 'capacity' ? 'capacity' : error.retryable ? 'retryable' : 'rejected';
  return { kind, code: error.code, message: error.message };
}

export function launchRequest(action: LaunchAction, policy: PoolPolicy, fleet: string): LaunchRequest {
  const placement = policy.regions[action.region];
  return {
    fleet,
    pool: action.pool,
    name: action.name,
    region: action.region,
    az: action.az,
    subnetId: action.subnetId,
    securityGroups: placement?.securityGroups ?? [],
    ...(placement?.publicIp !== undefined ? { publicIp: placement.publicIp } : {}),
    instanceType: action.instanceType,
    lifecycle: action.lifecycle,
    ami: action.ami,
    ...(action.maxPrice !== undefined ? { maxPrice: action.maxPrice } : {}),
    ...(policy.keyName ? { keyName: policy.keyName } : {}),
    ...(policy.instanceProfile ? { instanceProfile: policy.instanceProfile } : {}),
    ...(policy.userData !== undefined
      ? { userData: renderUserData(policy.userData, { name: action.name, pool: action.pool, region: action.region, az: action.az }) }
      : {}),
    clientToken: action.clientToken,
    ...(action.replaces !== undefined ? { replaces: action.replaces } : {}),
  };
}

async function launch(action: LaunchAction, ctx: ExecuteContext): Promise<LaunchOutcome> {
  const policy = ctx.policies.get(action.pool);
  const fields = actionFields(action);
  if (!policy) {
    ctx.log.error(fields, 'launch skipped: pool has no policy');
    return { action, failure: { kind: 'rejected', code: 'NoPolicy', message: `pool ${action.pool} has no policy` } };
  }
  try {
    const instance = await ctx.cloud.compute(action.region).launch(launchRequest(action, policy, ctx.fleet));
    ctx.log.info({ ...fields, instance: instance.id }, 'launch');
    return { action, instance };
  } catch (e) {
    const error = classify(e);
    const failure = failureOf(error);
    (failure.kind === 'capacity' ? ctx.log.warn : ctx.log.error).call(ctx.log, { ...fields, code: error.code, error: error.message, class: error.errorClass }, 'launch failed');
    return { action, failure };
  }
}

async function terminate(region: string, actions: readonly TerminateAction[], ctx: ExecuteContext): Promise<TerminateOutcome[]> {
  try {
    const done = new Set(await ctx.cloud.compute(region).terminate(ctx.fleet, actions.map((a) => a.instanceId)));
    return actions.map((action) => {
      const fields = actionFields(action);
      if (done.has(action.instanceId)) {
        ctx.log.info(fields, 'terminate');
        return { action, terminated: true };
      }
      ctx.log.error(fields, 'terminate skipped: the instance does not carry this fleet\'s ownership tag');
      return { action, terminated: false, failure: { kind: 'rejected', code: 'NotOwned', message: 'not owned by this fleet' } };
    });
  } catch (e) {
    const error = classify(e);
    ctx.log.error({ region, instances: actions.map((a) => a.instanceId), code: error.code, error: error.message }, 'terminate failed');
    return actions.map((action) => ({ action, terminated: false, failure: failureOf(error) }));
  }
}

/**
 * Launches into one offer in growing batches (1, 2, 4, ...): the first call probes the offer, and
 * once the offer refuses capacity the rest are not sent. An offer out of capacity costs one
 * refused call, and one that runs out midway at most one batch, not one call per planned instance.
 */
async function launchIntoOffer(actions: readonly LaunchAction[], ctx: ExecuteContext): Promise<LaunchOutcome[]> {
  const outcomes: LaunchOutcome[] = [];
  let next = 0;
  for (let size = 1; next < actions.length; size *= 2) {
    const batch = actions.slice(next, next + size);
    next += batch.length;
    const results = await Promise.all(batch.map((a) => launch(a, ctx)));
    outcomes.push(...results);
    const refused = results.find((r) => r.failure?.kind === 'capacity')?.failure;
    if (refused) {
      const failure = { ...refused, message: `not attempted: ${refused.code} on the same offer`, unsent: true as const };
      outcomes.push(...actions.slice(next).map((action) => ({ action, failure })));
      break;
    }
  }
  return outcomes;
}

/** Carry out actions: launches one call each (each has its own name), terminations batched per region. */
export async function execute(actions: readonly (LaunchAction | TerminateAction)[], ctx: ExecuteContext): Promise<Outcome> {
  const byOffer = groupBy(actions.filter((a): a is LaunchAction => a.kind === 'launch'), (a) => `${a.lifecycle}:${a.instanceType}:${a.subnetId}`);
  const byRegion = groupBy(actions.filter((a): a is TerminateAction => a.kind === 'terminate'), (a) => a.region);
  const [launched, terminated] = await Promise.all([
    Promise.all([...byOffer.values()].map((group) => launchIntoOffer(group, ctx))),
    Promise.all([...byRegion].map(([region, group]) => terminate(region, group, ctx))),
  ]);
  return { launches: launched.flat(), terminations: terminated.flat() };
}
