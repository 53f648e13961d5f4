import { classify } from '../cloud/errors.js';
import { DRAINED_DOC, type DrainMark, type DrainedDoc, EMPTY_RECONCILER_DOC, RECONCILER_DOC, type ReconcilerDoc } from './state-docs.js';
import { migrate } from './journal.js';
import type { StateStore } from '../shared/state-store.js';
import { readDrained } from '../shared/worker-docs.js';

const UNDRAIN_MEMORY_MS = 7 * 24 * 3600_000;

export interface DrainRequest {
  readonly ami: string;
  readonly reason: string;
  readonly by: DrainMark['by'];
}

/**
 * Mark AMIs drained (or, with `undrain`, clear the marks) in the state store. The document is
 * shared by operators and the service, so a lost race is re-read and retried.
 */
export async function recordDrains(
  state: StateStore,
  requests: readonly DrainRequest[],
  now: number,
  undrain = false,
): Promise<{ doc: DrainedDoc; changed: boolean }> {
  for (let attempt = 1; ; attempt++) {
    const current = await readDrained(state);
    const amis: Record<string, DrainMark> = { ...current?.doc.amis };
    // Undrain times matter only while the guard's window could still see the old failures.
    const undrained: Record<string, number> = Object.fromEntries(
      Object.entries(current?.doc.undrained ?? {}).filter(([, at]) => now - at < UNDRAIN_MEMORY_MS),
    );
    for (const r of requests) {
      if (undrain) {
        // The launch guard counts only ends after this: the failures that tripped it are forgiven.
        if (amis[r.ami] !== undefined) undrained[r.ami] = now;
        delete amis[r.ami];
      } else amis[r.ami] ??= { reason: r.reason, at: now, by: r.by };
    }
    const doc: DrainedDoc = { amis, ...(Object.keys(undrained).length > 0 ? { undrained } : {}) };
    if (JSON.stringify(doc) === JSON.stringify(current?.doc ?? { amis: {} })) return { doc, changed: false };
    try {
      await state.write(DRAINED_DOC, doc, current?.etag);
      return { doc, changed: true };
    } catch (e) {
      if (classify(e).errorClass !== 'conflict' || attempt >= 5) throw e;
    }
  }
}

/**
 * Note instances fleet is about to terminate outside a cycle (fleet drain --now), so the launch
 * guard never takes their end for a failing image.
 */
export async function recordTerminations(state: StateStore, ids: readonly string[], now: number): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const current = await state.read<unknown>(RECONCILER_DOC);
    const doc: ReconcilerDoc = current === undefined ? EMPTY_RECONCILER_DOC : migrate(current.doc);
    const next: ReconcilerDoc = { ...doc, terminated: { ...doc.terminated, ...Object.fromEntries(ids.map((id) => [id, now])) } };
    try {
      await state.write(RECONCILER_DOC, next, current?.etag);
      return;
    } catch (e) {
      if (classify(e).errorClass !== 'conflict' || attempt >= 5) throw e;
    }
  }
}
