import type { Clock } from '../domain/clock.js';
import { abortReason } from './bounds.js';
import { CloudError, classify } from './errors.js';

export interface RetryOptions {
  readonly clock: Clock;
  /** attempts in all, the first included */
  readonly attempts: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  /** [0, 1): injected so the simulator stays reproducible */
  readonly random: () => number;
  /** Also retry these classes (e.g. 'not-found' right after a launch, for eventual consistency). */
  readonly alsoRetry?: readonly CloudError['errorClass'][];
  readonly onRetry?: (error: CloudError, attempt: number, delayMs: number) => void;
  /**
   * The whole call's signal (its deadline, the process's shutdown): handed to every attempt; once
   * aborted, no attempt starts and no backoff waits, and the call fails with its reason.
   */
  readonly signal?: AbortSignal;
}

export const DEFAULT_RETRY = { attempts: 6, baseDelayMs: 250, maxDelayMs: 20_000 } as const;

/**
 * Run `call`, retrying throttling and transient failures with capped exponential backoff and full
 * jitter. Whatever is finally thrown is a classified CloudError.
 */
export async function withRetry<T>(call: (signal?: AbortSignal) => Promise<T>, options: RetryOptions): Promise<T> {
  const { signal } = options;
  for (let attempt = 1; ; attempt++) {
    try {
      if (signal?.aborted) throw abortReason(signal);
      return await call(signal);
    } catch (raw) {
      if (signal?.aborted) throw abortReason(signal);
      const error = classify(raw);
      const retryable = error.retryable || (options.alsoRetry ?? []).includes(error.errorClass);
      if (!retryable || attempt >= options.attempts) throw error;
      const ceiling = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** (attempt - 1));
      const delay = Math.floor(options.random() * ceiling);
      options.onRetry?.(error, attempt, delay);
      await options.clock.sleep(delay, signal);
    }
  }
}
