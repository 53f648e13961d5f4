// What the simulated CI publishes as desired counts, computed from its queues as a real CI would:
// plain counts (pending + running jobs per pool; fleet clamps them to the pool's bounds), or the
// per-pool queue form that lets fleet work the count out itself and see which workers are busy.

import type { QueueState } from './ci.js';

export type DesiredForm = 'counts' | 'queue';

export interface QueueDesired {
  readonly pending: number;
  readonly running: number;
  readonly oldestPendingSeconds: number;
  readonly busy: readonly string[];
}

export function desiredDocument(queues: Readonly<Record<string, QueueState>>, form: DesiredForm): Record<string, number | QueueDesired> {
  const doc: Record<string, number | QueueDesired> = {};
  for (const [pool, q] of Object.entries(queues)) {
    doc[pool] =
      form === 'counts'
        ? q.pending + q.running
        : { pending: q.pending, running: q.running, oldestPendingSeconds: q.oldestPendingSeconds, busy: [...q.busy] };
  }
  return doc;
}

/** The workers each pool's document asks for, as fleet reads a document without `desired`. */
export function wantedOf(queues: Readonly<Record<string, QueueState>>): Record<string, number> {
  return Object.fromEntries(Object.entries(queues).map(([pool, q]) => [pool, q.pending + q.running]));
}

/**
 * A fixed demand curve's document: the counts as given, or in the queue form each pool's count as
 * `desired` beside the CI's busy workers (what a CI that sizes its pools itself would publish).
 */
export function curveDocument(
  counts: Readonly<Record<string, number>>,
  queues: Readonly<Record<string, QueueState>>,
  form: DesiredForm,
): Record<string, number | { desired: number; busy: string[] }> {
  if (form === 'counts') return { ...counts };
  return Object.fromEntries(Object.entries(counts).map(([pool, n]) => [pool, { desired: n, busy: [...(queues[pool]?.busy ?? [])] }]));
}
