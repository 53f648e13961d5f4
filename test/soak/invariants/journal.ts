import type { Finding } from './types.js';

/** What EC2 answered to every RunInstances carrying one client token, in order. */
export interface TokenHistory {
  /** EC2 made an instance for it (the answer may have been lost on the way back) */
  readonly succeeded: boolean;
  /** the last definitive refusal (not throttling, not a 5xx, not a lost message), if any */
  readonly lastRefusal?: { readonly t: number; readonly code: string; readonly process: string };
}

/** A cycle of one process: when it ran, whether it ended normally, whether it sent any change. */
export interface CycleRecord {
  readonly process: string;
  readonly start: number;
  readonly end: number;
  readonly completed: boolean;
  readonly mutated: boolean;
}

export interface JournalInput {
  /** pending launches in reconciler.json as stored, with when each call was last sent */
  readonly pending: readonly { readonly clientToken: string; readonly name: string; readonly pool: string; readonly requestedAt: number }[];
  readonly tokens: ReadonlyMap<string, TokenHistory>;
  readonly cycles: readonly CycleRecord[];
  /** how long fleet waits for a launch to become visible before giving up on it (config visibilityTimeout) */
  readonly visibilityTimeoutMs: number;
}

/**
 * The journal never keeps a refused launch: a pending launch whose token EC2 refused for good, with
 * no success since, is a violation once a process knew it: the cycle that got the refusal ended
 * normally. A refusal no process heard (it died first) leaves an unanswered launch, which fleet
 * re-sends (and hears the refusal then) or, while its pool is above desired, holds until it gives
 * up on it: a later cycle that ended normally after sending changes (so it was not blocked), past
 * the visibility timeout, must have let it go.
 */
export function checkJournal(input: JournalInput): Finding[] {
  return input.pending.flatMap((p) => {
    const history = input.tokens.get(p.clientToken);
    const refusal = history?.lastRefusal;
    if (!history || history.succeeded || !refusal) return [];
    const givenUpBy = Math.max(refusal.t, p.requestedAt + input.visibilityTimeoutMs);
    const known = input.cycles.some(
      (c) =>
        c.completed &&
        ((c.process === refusal.process && c.start <= refusal.t && refusal.t <= c.end) || (c.start > givenUpBy && c.mutated)),
    );
    if (!known) return [];
    return [
      {
        invariant: 'journal-keeps-refused',
        key: p.clientToken,
        detail: `${p.pool}: reconciler.json still holds ${p.name} (token ${p.clientToken.slice(0, 14)}…), refused ${refusal.code} at ${new Date(refusal.t).toISOString()}`,
      },
    ];
  });
}
