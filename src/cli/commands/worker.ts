import { loadConfig } from '../../config/config.js';
import { InvalidArgumentError } from 'commander';
import { createLogger } from '../../service/logger.js';
import { checkAmi } from '../../worker/check-ami.js';
import { runHook, type HookResult } from '../../worker/hook.js';
import { type WorkerIdentity, readWorkerIdentity } from '../../worker/identity.js';
import { Imds, metadataEndpoint } from '../../worker/imds.js';
import type { LeaveSignal } from '../../worker/leave-signal.js';
import { watchForLeave } from '../../worker/watch.js';
import type { GlobalOptions } from '../context.js';

export interface WorkerOptions {
  readonly onRetire?: string;
  readonly poll: number;
  readonly json?: boolean;
}

/** Exit statuses of `fleet worker`: 3 and 4 mean power the worker off, as with check-ami. */
export const WORKER_EXIT = { stopped: 0, unknown: 1, leave: 3, drained: 4 } as const;

/** How long a hook may run when fleet's deadline cannot be read: fleet terminates at its own deadline anyway. */
const HOOK_WITHOUT_DEADLINE_MS = 3_600_000;
/** The longest a hook is waited for, whatever the deadline says (a day; also keeps the timer in range). */
const HOOK_AT_MOST_MS = 86_400_000;

/**
 * Runs on a worker for its life: waits for `fleet:retire` or a spot interruption notice in its own
 * metadata, runs the operator's hook (which stops the CI agent once its job is done or handed back),
 * then exits 3 so the unit powers the worker off. Exit 4 at start when its image is drained, 1 when
 * its metadata cannot be read at start, 0 when stopped by SIGTERM or SIGINT.
 */
export async function workerCommand(global: GlobalOptions, options: WorkerOptions): Promise<number> {
  const config = loadConfig(global.config);
  const log = createLogger(global.debug ? 'debug' : config.log.level);
  const endpoint = await metadataEndpoint(process.env);
  if (endpoint === undefined)
    return report(options, undefined, { outcome: 'unknown', reason: 'instance metadata is disabled (AWS_EC2_METADATA_DISABLED)' });
  const imds = new Imds({ endpoint });
  let identity: WorkerIdentity;
  try {
    identity = await readWorkerIdentity(imds);
  } catch (e) {
    return report(options, undefined, {
      outcome: 'unknown',
      reason: `cannot read instance metadata at ${endpoint}: ${(e as Error).message}`,
    });
  }
  if (config.manifest !== '') {
    const check = await checkAmi(config, log.child({ check: 'image' }), process.env);
    if (check.verdict === 'drained') return report(options, identity, { outcome: 'drained', reason: check.reason });
  }

  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  try {
    log.info(
      { instanceId: identity.instanceId, name: identity.name, pool: identity.pool },
      'watching for fleet:retire and spot interruption notices',
    );
    const leave = await watchForLeave(imds, { pollMs: options.poll * 1000, log, signal: stop.signal });
    if (leave === undefined)
      return report(options, identity, { outcome: 'stopped', reason: 'stopped by a signal before any request to leave' });
    const hook =
      options.onRetire === undefined ? undefined : await runHook(options.onRetire, hookEnv(leave, identity), hookTimeoutMs(leave));
    return report(options, identity, { outcome: 'leave', reason: leaveReason(leave, hook), leave, hook });
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  }
}

/** Parse and bound --poll (seconds). */
export function pollSeconds(value: string): number {
  const seconds = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value.trim()) || seconds < 1 || seconds > 300)
    throw new InvalidArgumentError(`expected seconds from 1 to 300 (got ${JSON.stringify(value)})`);
  return seconds;
}

function hookTimeoutMs(leave: LeaveSignal): number {
  return leave.deadlineMs === undefined ? HOOK_WITHOUT_DEADLINE_MS : Math.min(HOOK_AT_MOST_MS, Math.max(0, leave.deadlineMs - Date.now()));
}

function hookEnv(leave: LeaveSignal, identity: WorkerIdentity): NodeJS.ProcessEnv {
  return {
    ...process.env,
    FLEET_LEAVE: leave.kind,
    FLEET_DEADLINE: leave.deadlineMs === undefined ? '' : new Date(leave.deadlineMs).toISOString(),
    FLEET_INSTANCE_ID: identity.instanceId,
    FLEET_NAME: identity.name ?? '',
    FLEET_POOL: identity.pool ?? '',
  };
}

function leaveReason(leave: LeaveSignal, hook: HookResult | undefined): string {
  const deadline = leave.deadlineMs === undefined ? 'no readable deadline' : `deadline ${new Date(leave.deadlineMs).toISOString()}`;
  const why =
    leave.kind === 'retire'
      ? `fleet asked this worker to leave (fleet:retire, ${deadline})`
      : `spot interruption notice (${leave.action}, ${deadline})`;
  if (hook === undefined) return `${why}; no --on-retire hook`;
  const how = hook.timedOut ? 'stopped at the deadline' : hook.exitCode === null ? `ended by ${hook.signal}` : `exited ${hook.exitCode}`;
  return `${why}; hook ${how} after ${hook.seconds} s`;
}

interface Outcome {
  readonly outcome: keyof typeof WORKER_EXIT;
  readonly reason: string;
  readonly leave?: LeaveSignal;
  readonly hook?: HookResult;
}

/** One line on stdout, text or JSON, and the exit status that goes with it. */
function report(options: WorkerOptions, identity: WorkerIdentity | undefined, o: Outcome): number {
  const exit = WORKER_EXIT[o.outcome];
  if (options.json) {
    const deadlineMs = o.leave?.deadlineMs;
    process.stdout.write(
      `${JSON.stringify({
        instanceId: identity?.instanceId ?? null,
        name: identity?.name ?? null,
        pool: identity?.pool ?? null,
        outcome: o.outcome,
        leave: o.leave?.kind ?? null,
        deadline: deadlineMs === undefined ? null : new Date(deadlineMs).toISOString(),
        hook: o.hook ?? null,
        reason: o.reason,
        exit,
      })}\n`,
    );
  } else {
    const who =
      identity === undefined
        ? ''
        : ` [${[identity.instanceId, identity.name, identity.pool && `pool ${identity.pool}`].filter(Boolean).join(' ')}]`;
    process.stdout.write(`fleet worker: ${o.outcome} (exit ${exit}): ${o.reason}${who}\n`);
  }
  return exit;
}
