import { setMaxListeners } from 'node:events';
import { CloudError } from './errors.js';

/** How long one network call may take: to connect, for the answer to one request, and in all, retries included. */
export interface CallBounds {
  readonly connectMs: number;
  readonly requestMs: number;
  readonly totalMs: number;
}

/** Every time bound of fleet's network calls and of its shutdown (docs/bounds.md). */
export interface Bounds {
  readonly ec2: CallBounds;
  readonly s3: CallBounds;
  readonly pricing: CallBounds;
  /** beyond a long poll's own wait (at most 20 s) */
  readonly sqs: CallBounds;
  /** manifest and desired counts read over https:// */
  readonly https: CallBounds;
  /** per metadata request, tried `attempts` times */
  readonly imds: { readonly timeoutMs: number; readonly attempts: number };
  /** `fleet check-ami`'s S3 reads: a worker's boot waits on them */
  readonly bootS3: CallBounds & { readonly attempts: number };
  /** `fleet check-ami` in all */
  readonly checkAmiMs: number;
  /** after SIGTERM/SIGINT, the action in flight has this long before its calls are aborted */
  readonly stopGraceMs: number;
  /** then giving up the leader lease has this long */
  readonly releaseMs: number;
}

/** The documented defaults (scale 1). */
export function bounds(env: NodeJS.ProcessEnv = process.env): Bounds {
  const f = scale(env);
  // Scaled down for tests, a bound still leaves a loopback server time to answer.
  const ms = (n: number) => (f === 1 ? n : Math.max(200, Math.round(n * f)));
  const call = (connectMs: number, requestMs: number, totalMs: number): CallBounds => ({
    connectMs: ms(connectMs),
    requestMs: ms(requestMs),
    totalMs: ms(totalMs),
  });
  return {
    ec2: call(5_000, 30_000, 90_000),
    s3: call(5_000, 30_000, 60_000),
    pricing: call(3_000, 10_000, 15_000),
    sqs: call(5_000, 15_000, 20_000),
    https: call(10_000, 30_000, 30_000),
    imds: { timeoutMs: ms(1_000), attempts: 3 },
    bootS3: { ...call(2_000, 10_000, 30_000), attempts: 3 },
    checkAmiMs: ms(60_000),
    stopGraceMs: ms(10_000),
    releaseMs: ms(5_000),
  };
}

/**
 * FLEET_BOUNDS_SCALE shortens every bound by a factor in (0, 1], so that tests against servers
 * that never answer run in seconds. Operators leave it unset.
 */
function scale(env: NodeJS.ProcessEnv): number {
  const raw = env.FLEET_BOUNDS_SCALE;
  if (raw === undefined || raw === '') return 1;
  const f = Number(raw);
  return Number.isFinite(f) && f > 0 && f <= 1 ? f : 1;
}

/** The error a call ends with when its deadline passes: transient, as a lost answer is. */
export function deadlineExceeded(what: string, ms: number): CloudError {
  return new CloudError('transient', 'DeadlineExceeded', `${what} gave no answer within ${seconds(ms)} s`);
}

function seconds(ms: number): string {
  return ms >= 10_000 ? String(Math.round(ms / 1000)) : String(Math.round(ms / 100) / 10);
}

/** A signal that aborts after `ms` with `reason`; its timer never keeps the process alive. */
export function deadlineSignal(ms: number, reason: CloudError): AbortSignal {
  const controller = new AbortController();
  setTimeout(() => controller.abort(reason), ms).unref();
  return controller.signal;
}

/** The error a signal was aborted with, as a CloudError. */
export function abortReason(signal: AbortSignal): CloudError {
  const reason: unknown = signal.reason;
  if (reason instanceof CloudError) return reason;
  return new CloudError('fatal', 'Aborted', reason instanceof Error ? reason.message : 'aborted');
}

/**
 * A signal aborted as soon as any of `signals` is, with its reason. Unlike AbortSignal.any, it
 * leaves nothing behind on a long-lived signal (the process's shutdown) once one of them has
 * aborted: give it a deadline among them and its listeners go by then at the latest.
 */
export function anySignal(signals: readonly AbortSignal[]): AbortSignal {
  const controller = new AbortController();
  const already = signals.find((s) => s.aborted);
  if (already) {
    controller.abort(already.reason);
    return controller.signal;
  }
  // Concurrent calls, pages and retries each listen on the shared signals: that is no leak.
  setMaxListeners(0, controller.signal, ...signals);
  const onAbort = (event: Event) => {
    for (const s of signals) s.removeEventListener('abort', onAbort);
    controller.abort((event.target as AbortSignal).reason);
  };
  for (const s of signals) s.addEventListener('abort', onAbort);
  return controller.signal;
}

/** Resolves never; rejects with the signal's reason once it aborts. For racing a call that may not listen. */
export function aborted(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    if (signal.aborted) reject(abortReason(signal));
    else signal.addEventListener('abort', () => reject(abortReason(signal)), { once: true });
  });
}
