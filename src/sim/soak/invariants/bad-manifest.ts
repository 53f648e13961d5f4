import type { Finding } from './types.js';

export interface Retirement {
  readonly id: string;
  readonly pool: string;
  readonly region: string;
  readonly ami: string;
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
  readonly liveBefore: Readonly<Record<string, number>>;
  /** the lowest desired count fleet could have been using, per pool */
  readonly desiredLow: Readonly<Record<string, number>>;
}

/**
 * No retirement on a bad manifest: while the published manifest is unreadable or invalid, no
 * instance on an image that the last good manifest calls current is terminated, unless its pool
 * is above desired. With no last good copy at all, nothing is known to be outdated.
 */
export function checkBadManifestRetirements(input: BadManifestInput): Finding[] {
  if (!input.manifestBad) return [];
  return input.terminated
    .filter((r) => (input.liveBefore[r.pool] ?? 0) <= (input.desiredLow[r.pool] ?? 0))
    .filter((r) => input.lastGoodCurrent.every((current) => current[`${r.pool} ${r.region}`] === r.ami))
    .map((r) => ({
      invariant: 'no-retirement-on-bad-manifest',
      detail: `${r.pool}: terminated ${r.id} on ${r.ami} (current in the last good manifest${input.lastGoodCurrent.length === 0 ? ': there is none' : ''}) while the manifest was bad, pool not above desired`,
    }));
}
