import type { LaunchRequest } from '../cloud/port.js';
import type { PoolTimers, Trial } from '../domain/snapshot.js';
import { isRecord, isTime, recordProblem, timeProblem } from '../shared/shape-checks.js';

/**
 * One launch call as it was (or is about to be) sent. The request is kept whole but for its user data,
 * so an unanswered call is re-sent with exactly the parameters and token it first had: EC2 then
 * answers with what the first call made, never with a second set of instances. User data may hold
 * secrets and is never stored: a re-send renders it again from the policy, and goes out only when
 * that matches the digest of what was sent.
 */
export interface SentLaunch {
  /** without `userData` */
  readonly request: LaunchRequest;
  /** SHA-256 (hex) of the user data sent, when the call carried any */
  readonly userDataSha256?: string;
  /** epoch ms it was last sent (a re-send restarts the wait for what it makes to become visible) */
  readonly requestedAt: number;
  /** the instances it made, by launch index, once the cloud answered; slots past the end were not filled */
  readonly instanceIds?: readonly string[];
  /**
   * Never re-sent: the cloud answered that the token was used with other parameters (so it landed),
   * or the entry comes from an older document that did not keep the whole request.
   */
  readonly frozen?: true;
}

/** The service's own memory between cycles and across restarts (`reconciler.json`). */
export interface ReconcilerDoc {
  readonly version: 2;
  readonly timers: Readonly<Record<string, PoolTimers>>;
  /** launch calls whose instances the cloud does not list yet */
  readonly launches: readonly SentLaunch[];
  /** instance id → epoch ms fleet terminated it; kept a few hours for the launch guard */
  readonly terminated: Readonly<Record<string, number>>;
  /** instance id → epoch ms fleet first saw it ended, when the cloud does not date the end itself */
  readonly endsSeen: Readonly<Record<string, number>>;
  /** rolloutKey() → epoch ms an image proved itself in a pool and region */
  readonly established: Readonly<Record<string, number>>;
  /** rolloutKey() → the workers that booted an image while it was on trial (EC2 lists ended ones only for an hour or so) */
  readonly trials: Readonly<Record<string, Trial>>;
}

/** How long fleet remembers what it terminated itself. */
export const TERMINATED_MEMORY_MS = 6 * 3600_000;

export const RECONCILER_DOC = 'reconciler.json';
export const EMPTY_RECONCILER_DOC: ReconcilerDoc = {
  version: 2,
  timers: {},
  launches: [],
  terminated: {},
  endsSeen: {},
  established: {},
  trials: {},
};

export { DRAINED_DOC, type DrainMark, type DrainedDoc, IMAGES_DOC } from '../shared/worker-docs.js';

/** What fleet knows from EC2's events (domain/events.ts EventFacts), written by the event inbox. */
export const EVENTS_DOC = 'events.json';

// Shape checks of the documents as read: undefined when usable, else what is wrong. A malformed
// document is an error (CorruptStateError), never taken for an empty one.

/** reconciler.json, of either version (journal.ts migrates the first). */
export function reconcilerProblem(doc: unknown): string | undefined {
  if (!isRecord(doc)) return 'expected a JSON object';
  for (const field of ['timers', 'trials'] as const) {
    if (doc[field] !== undefined) {
      const wrong = recordProblem(field, doc[field], (v) => (isRecord(v) ? undefined : 'expected an object'));
      if (wrong !== undefined) return wrong;
    }
  }
  for (const field of ['terminated', 'endsSeen', 'established'] as const) {
    if (doc[field] !== undefined) {
      const wrong = recordProblem(field, doc[field], timeProblem);
      if (wrong !== undefined) return wrong;
    }
  }
  for (const field of ['launches', 'pendingLaunches'] as const) {
    const list = doc[field];
    if (list === undefined) continue;
    if (!Array.isArray(list)) return `${field}: expected a list`;
    for (const [i, sent] of list.entries()) {
      const wrong =
        field === 'launches'
          ? sentLaunchProblem(sent)
          : isRecord(sent) && typeof sent.clientToken === 'string'
            ? undefined
            : 'expected a launch with a clientToken';
      if (wrong !== undefined) return `${field}[${i}]: ${wrong}`;
    }
  }
  return undefined;
}

function sentLaunchProblem(sent: unknown): string | undefined {
  if (!isRecord(sent)) return 'expected an object';
  if (!isRecord(sent.request) || typeof sent.request.clientToken !== 'string' || !Array.isArray(sent.request.slots))
    return 'request: expected a launch request with clientToken and slots';
  if (!isTime(sent.requestedAt)) return 'requestedAt: expected a time in epoch ms';
  if (sent.instanceIds !== undefined && !(Array.isArray(sent.instanceIds) && sent.instanceIds.every((id) => typeof id === 'string')))
    return 'instanceIds: expected a list of instance ids';
  return undefined;
}
