import type { Finding } from './types.js';

export interface QueuedMessage {
  readonly id: string;
  /** when this copy was queued (a duplicate delivery is a copy of its own) */
  readonly queuedAt: number;
}

export interface EventQueueInput {
  readonly now: number;
  /** what the queue holds now, in flight or not */
  readonly queued: readonly QueuedMessage[];
  readonly maxAgeMs: number;
  /**
   * When the last thing outside fleet's hands that kept the queue from being handled between two
   * times ends or ended (undefined if nothing did): the state store failing (facts not written, or
   * the lease not renewed, so messages stay queued, as they must) or a takeover (a stalled leader's
   * lease running out).
   */
  readonly hinderedUntil: (from: number, to: number) => number | undefined;
}

/**
 * Every message on the event queue is handled and deleted within `maxAgeMs` of being queued: an
 * EC2 event once its facts are written, anything else (malformed, foreign, a second delivery of one
 * already handled) once dropped. A message left behind would be read again and again. A hindrance
 * moves the deadline to `maxAgeMs` after it ends: by then a replica has had the lease again (a lost
 * lease runs out within its ttl), a cycle has ended in a poll, and anything received but not
 * deleted has come back after the visibility timeout.
 */
export function checkEventQueue(input: EventQueueInput): Finding[] {
  return input.queued
    .filter((m) => input.now - m.queuedAt > input.maxAgeMs)
    .filter((m) => input.now - Math.max(m.queuedAt, input.hinderedUntil(m.queuedAt, input.now) ?? -Infinity) > input.maxAgeMs)
    .map((m) => ({
      invariant: 'event-queue-drained',
      key: `${m.id}@${m.queuedAt}`,
      detail: `message ${m.id} still queued ${Math.round((input.now - m.queuedAt) / 1000)} s after it was queued`,
    }));
}
