import type { Finding } from './types.js';

export interface Retirement {
  readonly id: string;
  readonly pool: string;
  readonly region: string;
  readonly ami: string;
  /**
   * The pool's live instances just before this one was terminated: a replacement launched earlier
   * in the same cycle (a turn run early on a warning, say) counts.
   */
  readonly liveBefore: number;
}

export interface BadManifestInput {
  /** the published manifest was unreadable or invalid at some point of the cycle */
  readonly manifestBad: boolean;
  /**
   * For every last good copy fleet could have been using, the current image per "pool region";
   * empty when there is none.
   */
  readonly lastGoodCurrent: readonly Readonly<Record<string, string>>[];
  readonly terminated: readonly Retirement[];
  /** the lowest desired count fleet could have been using, per pool */
  readonly desiredLow: Readonly<Record<string, number>>;
}

/**
 * No retirement on a bad manifest: while the published manifest is unreadable or invalid, no
 * instance on an image that the last good manifest calls current is terminated, unless its pool
 * is above desired at that moment. With no last good copy at all, nothing is known to be outdated.
 */
export function checkBadManifestRetirements(input: BadManifestInput): Finding[] {
  if (!input.manifestBad) return [];
  return input.terminated
    .filter((r) => r.liveBefore <= (input.desiredLow[r.pool] ?? 0))
    .filter((r) => input.lastGoodCurrent.every((current) => current[`${r.pool} ${r.region}`] === r.ami))
    .map((r) => ({
      invariant: 'no-retirement-on-bad-manifest',
      detail: `${r.pool}: terminated ${r.id} on ${r.ami} (current in the last good manifest${input.lastGoodCurrent.length === 0 ? ': there is none' : ''}) while the manifest was bad, pool not above desired`,
    }));
}
