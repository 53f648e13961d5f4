import { RETIRE_TAG } from '../domain/tags.js';
import type { Imds } from './imds.js';

/** Why a worker must leave: fleet asked it (`fleet:retire`), or EC2 is reclaiming its spot capacity. */
export type LeaveSignal =
  | { readonly kind: 'retire'; readonly deadlineMs: number | undefined; readonly tag: string }
  | { readonly kind: 'interruption'; readonly action: string; readonly deadlineMs: number | undefined };

/**
 * Whether this worker has been asked to leave, from its own metadata only: EC2's spot interruption
 * notice (`spot/instance-action`, 404 until there is one) and the `fleet:retire` instance tag (its
 * tags must be exposed in metadata, as fleet's launches do). The interruption comes first: its two
 * minutes are the shorter deadline.
 */
export async function readLeaveSignal(imds: Imds): Promise<LeaveSignal | undefined> {
  const notice = await imds.metaData('spot/instance-action');
  if (notice !== undefined) return interruption(notice);
  const keys = await imds.metaData('tags/instance');
  if (keys === undefined || !keys.split('\n').some((k) => k.trim() === RETIRE_TAG)) return undefined;
  const tag = (await imds.metaData(`tags/instance/${RETIRE_TAG}`))?.trim();
  if (tag === undefined) return undefined; // removed between the two reads
  return { kind: 'retire', deadlineMs: isoTime(tag), tag };
}

function interruption(notice: string): LeaveSignal {
  try {
    const doc = JSON.parse(notice) as { action?: unknown; time?: unknown };
    const action = typeof doc.action === 'string' ? doc.action : 'terminate';
    return { kind: 'interruption', action, deadlineMs: typeof doc.time === 'string' ? isoTime(doc.time) : undefined };
  } catch {
    // A notice is a notice even when its body cannot be read: the capacity is going away.
    return { kind: 'interruption', action: 'terminate', deadlineMs: undefined };
  }
}

/** Epoch ms of an ISO 8601 UTC time such as 2026-12-06T21:00:00Z; undefined when it is not one. */
export function isoTime(text: string): number | undefined {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?Z$/.test(text)) return undefined;
  const ms = Date.parse(text);
  return Number.isFinite(ms) && new Date(ms).toISOString().slice(0, 10) === text.slice(0, 10) ? ms : undefined;
}
