import type { Logger } from 'pino';
import { type CloudError, classify } from '../cloud/errors.js';
import type { GuardedCloud } from '../cloud/guarded-cloud.js';
import type { Action, LaunchAction, RetireAction, TerminateAction } from '../domain/actions.js';
import type { Failure, LaunchOutcome, Outcome, RetireOutcome, TerminateOutcome } from '../domain/outcome.js';
import { groupBy } from '../domain/group-by.js';
import type { CallAnswer } from './journal.js';
import type { LaunchCall } from './launch-calls.js';
import { type NameTag, setNames } from './naming.js';

export interface ExecuteContext {
  readonly cloud: GuardedCloud;
  readonly fleet: string;
  readonly log: Logger;
}

export interface Executed {
  readonly outcome: Outcome;
  /** what the cloud answered each launch call, by client token, for the journal */
  readonly answers: ReadonlyMap<string, CallAnswer>;
}

/** The fields of an action's log line: one line per action, naming pool, instance, cause and reason. */
export function actionFields(a: Action): Record<string, unknown> {
  return a.kind === 'launch'
    ? {
        pool: a.pool,
        name: a.name,
        region: a.region,
        az: a.az,
        instanceType: a.instanceType,
        lifecycle: a.lifecycle,
        ami: a.ami,
        price: a.price,
        cause: a.cause,
        reason: a.reason,
      }
    : {
        pool: a.pool,
        instance: a.instanceId,
        name: a.name,
        region: a.region,
        lifecycle: a.lifecycle,
        cause: a.cause,
        reason: a.reason,
        ...(a.kind === 'retire' ? { deadline: new Date(a.deadline).toISOString() } : {}),
        ...(a.kind === 'terminate' && a.retireEnd !== undefined ? { retireEnd: a.retireEnd } : {}),
      };
}

export function failureOf(error: CloudError): Failure {
  const kind = error.errorClass === 'capacity' ? 'capacity' : error.retryable || error.errorClass === 'fenced' ? 'retryable' : 'rejected';
  return { kind, code: error.code, message: error.message };
}

/** How a failed launch call leaves the journal: refused for good, landed earlier, or fate unknown. */
function answerOf(error: CloudError): CallAnswer {
  if (error.code === 'IdempotentParameterMismatch') return { kind: 'landed' };
  if (
    error.errorClass === 'capacity' ||
    error.errorClass === 'invalid' ||
    error.errorClass === 'permission' ||
    error.errorClass === 'not-found'
  )
    return { kind: 'refused' };
  return { kind: 'unknown' };
}

interface Sent {
  readonly outcomes: LaunchOutcome[];
  readonly answer: CallAnswer;
  readonly refused?: Failure;
  /** a batch's instances, whose `Name` is set once the round's calls are out */
  readonly toName: NameTag[];
}

async function sendCall(call: LaunchCall, ctx: ExecuteContext): Promise<Sent> {
  const { request, actions } = call;
  try {
    const instances = await ctx.cloud.compute(request.region).launch(request);
    const byIndex = new Map(instances.map((i) => [i.launchIndex ?? 0, i]));
    const outcomes: LaunchOutcome[] = actions.map((action, index) => {
      const instance = byIndex.get(index);
      if (instance) {
        ctx.log.info({ ...actionFields(action), instance: instance.id, ...(call.resend ? { resent: true } : {}) }, 'launch');
        return { action, instance };
      }
      return {
        action,
        failure: { kind: 'capacity', code: 'PartialFill', message: `the offer filled ${instances.length} of ${actions.length}` },
      };
    });
    if (instances.length < actions.length) {
      ctx.log.warn(
        {
          pool: request.pool,
          az: request.az,
          instanceType: request.instanceType,
          lifecycle: request.lifecycle,
          asked: actions.length,
          made: instances.length,
        },
        'offer filled part of the call',
      );
    }
    const toName =
      actions.length > 1
        ? instances.flatMap((i) => {
            const slot = request.slots[i.launchIndex ?? 0];
            return slot ? [{ region: request.region, instanceId: i.id, slot }] : [];
          })
        : [];
    const partial = instances.length < actions.length ? (outcomes.find((o) => o.failure)?.failure as Failure) : undefined;
    return {
      outcomes,
      answer: { kind: 'made', instanceIds: instances.map((i) => i.id) },
      ...(partial ? { refused: partial } : {}),
      toName,
    };
  } catch (e) {
    const error = classify(e);
    const failure: Failure = { ...failureOf(error), batch: actions.length };
    const answer = answerOf(error);
    const fields = {
      pool: request.pool,
      names: actions.map((a) => a.name),
      region: request.region,
      az: request.az,
      instanceType: request.instanceType,
      lifecycle: request.lifecycle,
      ami: request.ami,
      code: error.code,
      error: error.message,
      class: error.errorClass,
    };
    if (answer.kind === 'landed')
      ctx.log.warn(fields, 'launch token already used with other parameters: an earlier send landed; waiting for it');
    else (failure.kind === 'capacity' ? ctx.log.warn : ctx.log.error).call(ctx.log, fields, 'launch failed');
    return {
      outcomes: actions.map((action) => ({ action, failure })),
      answer,
      ...(failure.kind === 'capacity' ? { refused: failure } : {}),
      toName: [],
    };
  }
}

/**
 * Calls into one offer go one after the other, and once the offer refuses (or fills only part of a
 * call) the rest are not sent: an offer out of capacity costs one refused call. Naming a batch's
 * instances waits until the round's calls are out, so it never holds up the next call.
 */
async function launchIntoOffer(
  calls: readonly LaunchCall[],
  ctx: ExecuteContext,
  answers: Map<string, CallAnswer>,
  toName: NameTag[],
): Promise<LaunchOutcome[]> {
  const outcomes: LaunchOutcome[] = [];
  for (const [n, call] of calls.entries()) {
    const sent = await sendCall(call, ctx);
    outcomes.push(...sent.outcomes);
    toName.push(...sent.toName);
    answers.set(call.request.clientToken, sent.answer);
    if (sent.refused) {
      const failure: Failure = { ...sent.refused, message: `not attempted: ${sent.refused.code} on the same offer`, unsent: true };
      for (const rest of calls.slice(n + 1)) {
        outcomes.push(...rest.actions.map((action) => ({ action, failure })));
        // Never sent: the journal drops it (a resent call stays, to be tried again).
        answers.set(rest.request.clientToken, rest.resend ? { kind: 'unknown' } : { kind: 'refused' });
      }
      break;
    }
  }
  return outcomes;
}

/**
 * Re-point the pairs idle workers take over from busy ones (`fleet:replaces` on each replacement).
 * Returns the outcomes of those whose tag failed: they are not terminated (see StandIn).
 */
async function repointPairs(
  region: string,
  /** terminations with `standsInFor` */
  actions: readonly TerminateAction[],
  ctx: ExecuteContext,
): Promise<Map<TerminateAction, TerminateOutcome>> {
  const failed = new Map<TerminateAction, TerminateOutcome>();
  await Promise.all(
    actions.map(async (action) => {
      const pair = action.standsInFor;
      if (pair === undefined) return;
      try {
        await ctx.cloud
          .compute(region)
          .nameInstance(pair.replacement, { name: pair.replacementName, replaces: action.instanceId, cause: pair.cause });
      } catch (e) {
        const error = classify(e);
        ctx.log.warn(
          { ...actionFields(action), replacement: pair.replacement, code: error.code, error: error.message },
          'pair not re-pointed: the idle worker stays, a later cycle tries again',
        );
        failed.set(action, { action, terminated: false, failure: failureOf(error), repointed: false });
      }
    }),
  );
  return failed;
}

/**
 * Terminations per region. Idle workers standing in for busy ones wait for their pair's tag; the
 * others go at once, beside them: a worker the list showed idle may take a job any second.
 */
async function terminate(region: string, all: readonly TerminateAction[], ctx: ExecuteContext): Promise<TerminateOutcome[]> {
  const plain = all.filter((a) => a.standsInFor === undefined);
  const standing = all.filter((a) => a.standsInFor !== undefined);
  const [ended, stoodIn] = await Promise.all([terminateNow(region, plain, ctx), terminateStandIns(region, standing, ctx)]);
  return [...ended, ...stoodIn];
}

async function terminateStandIns(region: string, actions: readonly TerminateAction[], ctx: ExecuteContext): Promise<TerminateOutcome[]> {
  const unpointed = await repointPairs(region, actions, ctx);
  const ended = await terminateNow(
    region,
    actions.filter((a) => !unpointed.has(a)),
    ctx,
  );
  return [...unpointed.values(), ...ended.map((o) => ({ ...o, repointed: true }))];
}

async function terminateNow(region: string, actions: readonly TerminateAction[], ctx: ExecuteContext): Promise<TerminateOutcome[]> {
  if (actions.length === 0) return [];
  try {
    const done = new Set(
      await ctx.cloud.compute(region).terminate(
        ctx.fleet,
        actions.map((a) => a.instanceId),
      ),
    );
    return actions.map((action) => {
      const fields = actionFields(action);
      if (done.has(action.instanceId)) {
        ctx.log.info(fields, 'terminate');
        return { action, terminated: true };
      }
      ctx.log.error(fields, "terminate skipped: the instance does not carry this fleet's ownership tag");
      return { action, terminated: false, failure: { kind: 'rejected', code: 'NotOwned', message: 'not owned by this fleet' } };
    });
  } catch (e) {
    const error = classify(e);
    ctx.log.error({ region, instances: actions.map((a) => a.instanceId), code: error.code, error: error.message }, 'terminate failed');
    return actions.map((action) => ({ action, terminated: false, failure: failureOf(error) }));
  }
}

/** Ask busy workers to leave: `fleet:retire` and `fleet:retire-cause` on those this fleet owns, per region. */
async function retire(region: string, actions: readonly RetireAction[], ctx: ExecuteContext): Promise<RetireOutcome[]> {
  try {
    const asked = new Set(
      await ctx.cloud.compute(region).retire(
        ctx.fleet,
        actions.map((a) => ({ id: a.instanceId, deadline: a.deadline, cause: a.cause })),
      ),
    );
    return actions.map((action) => {
      const fields = actionFields(action);
      if (asked.has(action.instanceId)) {
        ctx.log.info(fields, 'retire');
        return { action, asked: true };
      }
      ctx.log.error(fields, "retire skipped: the instance does not carry this fleet's ownership tag");
      return { action, asked: false, failure: { kind: 'rejected', code: 'NotOwned', message: 'not owned by this fleet' } };
    });
  } catch (e) {
    const error = classify(e);
    ctx.log.error({ region, instances: actions.map((a) => a.instanceId), code: error.code, error: error.message }, 'retire failed');
    return actions.map((action) => ({ action, asked: false, failure: failureOf(error) }));
  }
}

/**
 * A round's launch calls (offers in parallel), then `Name` on the instances of its batches (each
 * worker already knows its name at boot from `fleet:names` and its launch index): best effort, as
 * many as the mutate bucket holds now; a later cycle names the rest (see naming.ts).
 */
async function launchAll(calls: readonly LaunchCall[], ctx: ExecuteContext, answers: Map<string, CallAnswer>): Promise<LaunchOutcome[]> {
  const byOffer = groupBy(calls, (c) => `${c.request.region}:${c.request.lifecycle}:${c.request.instanceType}:${c.request.subnetId}`);
  const toName: NameTag[] = [];
  const launched = await Promise.all([...byOffer.values()].map((group) => launchIntoOffer(group, ctx, answers, toName)));
  if (toName.length > 0) await setNames(toName, ctx.cloud, ctx.log);
  return launched.flat();
}

/** Carry out a round: launch calls (offers in parallel) and their names, terminations and retire requests batched per region. */
export async function execute(
  calls: readonly LaunchCall[],
  terminations: readonly TerminateAction[],
  ctx: ExecuteContext,
  retirements: readonly RetireAction[] = [],
): Promise<Executed> {
  const answers = new Map<string, CallAnswer>();
  const byRegion = groupBy(terminations, (a) => a.region);
  const [launched, terminated, asked] = await Promise.all([
    launchAll(calls, ctx, answers),
    Promise.all([...byRegion].map(([region, group]) => terminate(region, group, ctx))),
    Promise.all([...groupBy(retirements, (a) => a.region)].map(([region, group]) => retire(region, group, ctx))),
  ]);
  return {
    outcome: { launches: launched, terminations: terminated.flat(), ...(retirements.length > 0 ? { retirements: asked.flat() } : {}) },
    answers,
  };
}

/** Launch slots a round could not send (no policy, no journaled request), as failed outcomes. */
export function unsendableOutcomes(unsendable: readonly { action: LaunchAction; why: string }[], log: Logger): LaunchOutcome[] {
  return unsendable.map(({ action, why }) => {
    log.error({ ...actionFields(action), why }, 'launch skipped');
    return { action, failure: { kind: 'rejected', code: 'NotSendable', message: why } };
  });
}
