import type { Logger as SdkLogger } from '@smithy/types';
import type { Logger } from 'pino';
import { anySignal, type CallBounds, abortReason, aborted, deadlineExceeded, deadlineSignal } from '../bounds.js';

/** What the adapter factory gives every SDK client: its bounds, the caller's abort signal, the log. */
export interface ClientLimits {
  readonly bounds: CallBounds;
  /** the service's name in errors ("EC2", "S3", ...) */
  readonly service: string;
  /** asked at each call: the process's shutdown signal, or a command's own deadline */
  readonly abort: () => AbortSignal;
  readonly log: Logger;
}

/**
 * The SDK client options that bound each request: connect and request timeouts that fail the
 * request (without throwOnRequestTimeout the SDK only logs a warning and waits on), and the SDK's
 * own diagnostics as pino JSON lines instead of raw console output.
 */
export function boundedConfig(limits: ClientLimits) {
  const logger = sdkLogger(limits.log.child({ component: 'aws-sdk', service: limits.service }));
  return {
    logger,
    requestHandler: {
      connectionTimeout: limits.bounds.connectMs,
      requestTimeout: limits.bounds.requestMs,
      throwOnRequestTimeout: true,
      logger,
    },
  };
}

type Send = (command: never, options?: { abortSignal?: AbortSignal }) => Promise<unknown>;

/**
 * Every call of `client` (paginators and the SDK's own retries included) carries the caller's
 * signal, the limits' abort signal and a deadline of `bounds.totalMs`, and returns by then
 * whatever the SDK does. A body read after the call (S3 GetObject) stays under the same deadline.
 */
export function bounded<C extends { send: unknown }>(client: C, limits: ClientLimits): C {
  const send = (client.send as Send).bind(client);
  const boundedSend = async (command: never, options: { abortSignal?: AbortSignal } = {}) => {
    const deadline = deadlineSignal(limits.bounds.totalMs, deadlineExceeded(limits.service, limits.bounds.totalMs));
    const signals = [limits.abort(), deadline, ...(options.abortSignal ? [options.abortSignal] : [])];
    const signal = anySignal(signals);
    try {
      const out = await Promise.race([send(command, { ...options, abortSignal: signal }), aborted(signal)]);
      return withBoundedBody(out, signal);
    } catch (e) {
      throw signal.aborted ? abortReason(signal) : e;
    }
  };
  (client as { send: unknown }).send = boundedSend;
  return client;
}

/** A streamed body (S3 GetObject) read under the call's signal, failing with its reason. */
function withBoundedBody(out: unknown, signal: AbortSignal): unknown {
  const body = (out as { Body?: { transformToString?: (encoding?: string) => Promise<string> } } | undefined)?.Body;
  const read = body?.transformToString?.bind(body);
  if (!body || !read) return out;
  body.transformToString = async (encoding?: string) => {
    try {
      return await Promise.race([read(encoding), aborted(signal)]);
    } catch (e) {
      throw signal.aborted ? abortReason(signal) : e;
    }
  };
  return out;
}

/**
 * The SDK's logger interface on pino. The SDK logs every command it sends (info) and every one that
 * fails (error); fleet classifies and logs those failures itself, so they are debug lines here. Its
 * warnings (a request handler's, a socket pool's) stay warnings.
 */
export function sdkLogger(log: Logger): SdkLogger {
  const line =
    (level: 'debug' | 'warn') =>
    (...content: unknown[]) => {
      const [first, ...rest] = content;
      if (rest.length > 0) log[level]({ detail: rest.map(text) }, text(first));
      else log[level](text(first));
    };
  return { trace: line('debug'), debug: line('debug'), info: line('debug'), warn: line('warn'), error: line('debug') };
}

function text(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value instanceof Error) return value.message;
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
