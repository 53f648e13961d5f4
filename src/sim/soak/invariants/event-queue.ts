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
   * Whether something outside fleet's hands kept the queue from being handled between two times: the
   * state store failing (facts not written, so messages stay queued, as they must) or no replica
   * holding the lease (a stalled leader's lease running out).
   */
  readonly excused: (from: number, to: number) => boolean;
}

/**
 * Every message on the event queue is handled and deleted within `maxAgeMs` of being queued: an
 * EC2 event once its facts are written, anything else (malformed, foreign, a second delivery of one
 * already handled) once dropped. A message left behind would be read again and again.
 */
export function checkEventQueue(input: EventQueueInput): Finding[] {
  return input.queued
    .filter((m) => input.now - m.queuedAt > input.maxAgeMs && !input.excused(m.queuedAt, input.now))
    .map((m) => ({
      invariant: 'event-queue-drained',
      key: `${m.id}@${m.queuedAt}`,
      detail: `message ${m.id} still queued ${Math.round((input.now - m.queuedAt) / 1000)} s after it was queued`,
    }));
}
