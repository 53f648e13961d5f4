import { rolloutKey } from '../policy/rollout.js';
import { isRecord, isTime, recordProblem, timeProblem } from './shape-checks.js';
import { type StateStore, type Versioned, readValid } from './state-store.js';

// The state documents a worker reads (fleet check-ami), and their parsing: shared by the service,
// which writes them, and the worker, which is granted only these (policies/iam/fleet-worker.json).

export const DRAINED_DOC = 'drained.json';

export interface DrainMark {
  readonly reason: string;
  /** epoch ms */
  readonly at: number;
  /** who drained it: an operator (fleet drain) or the launch guard */
  readonly by: 'operator' | 'guard';
}

/** AMIs an operator (or the launch guard) has drained: never launched again. */
export interface DrainedDoc {
  readonly amis: Readonly<Record<string, DrainMark>>;
  /** AMI → epoch ms of its last undrain: the launch guard counts only ends after it */
  readonly undrained?: Readonly<Record<string, number>>;
}

/**
 * drained.json, checked: a malformed one throws (CorruptStateError) rather than read as "no drains",
 * which would launch every drained image again.
 */
export function readDrained(state: StateStore): Promise<Versioned<DrainedDoc> | undefined> {
  return readValid<DrainedDoc>(state, DRAINED_DOC, drainedProblem);
}

export function drainedProblem(doc: unknown): string | undefined {
  if (!isRecord(doc)) return 'expected a JSON object';
  const marks = recordProblem('amis', doc.amis, (m) => {
    if (!isRecord(m)) return 'expected {reason, at, by}';
    if (typeof m.reason !== 'string') return 'reason: expected a string';
    if (!isTime(m.at)) return 'at: expected a time in epoch ms';
    if (m.by !== 'operator' && m.by !== 'guard') return 'by: expected "operator" or "guard"';
    return undefined;
  });
  if (marks !== undefined) return marks;
  return doc.undrained === undefined ? undefined : recordProblem('undrained', doc.undrained, timeProblem);
}

/** The drained AMIs of a drained.json (none when it does not exist). */
export function drainedAmis(doc: DrainedDoc | undefined): ReadonlySet<string> {
  return new Set(Object.keys(doc?.amis ?? {}));
}

export const IMAGES_DOC = 'images.json';

/**
 * The images that proved themselves, per pool and region (AMI → epoch ms of the proof): what a worker
 * needs of the service's memory to judge its own image as the planner does. Nothing else: the
 * service's journal (with every pool's launch parameters) is not for workers to read.
 */
export interface ImagesDoc {
  readonly version: 1;
  readonly proved: Readonly<Record<string, Readonly<Record<string, Readonly<Record<string, number>>>>>>;
}

/** The document of the journal's established images (rolloutKey() → ms). */
export function imagesDoc(established: Readonly<Record<string, number>>): ImagesDoc {
  const proved: Record<string, Record<string, Record<string, number>>> = {};
  for (const key of Object.keys(established).sort()) {
    const [pool, region, ami] = key.split(' ');
    if (!pool || !region || !ami) continue;
    const regions = (proved[pool] ??= {});
    (regions[region] ??= {})[ami] = established[key] as number;
  }
  return { version: 1, proved };
}

/** rolloutKey() → ms, as the planner keys it, from an images.json; throws on a document of another shape. */
export function establishedOf(raw: unknown): Readonly<Record<string, number>> {
  const proved = (raw as { proved?: unknown } | undefined)?.proved;
  if (typeof raw !== 'object' || raw === null || typeof proved !== 'object' || proved === null)
    throw new Error(`${IMAGES_DOC}: expected an object with "proved"`);
  const established: Record<string, number> = {};
  for (const [pool, regions] of Object.entries(proved as Record<string, unknown>)) {
    for (const [region, amis] of Object.entries((regions ?? {}) as Record<string, unknown>)) {
      for (const [ami, at] of Object.entries((amis ?? {}) as Record<string, unknown>)) {
        if (typeof at !== 'number') throw new Error(`${IMAGES_DOC}: ${pool} ${region} ${ami}: expected epoch ms`);
        established[rolloutKey(pool, region, ami)] = at;
      }
    }
  }
  return established;
}
