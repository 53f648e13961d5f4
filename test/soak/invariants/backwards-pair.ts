import type { Finding, InstanceFact } from './types.js';

/** An image's standing as the judge can be sure of it, across every view fleet could have had this cycle. */
export interface ImageStanding {
  /** images every view calls launchable: the newest usable, and the newest whose rollout is remembered as proved */
  readonly current: ReadonlySet<string>;
  /** images every view calls outdated: usable, older than an image remembered as proved, and not the newest */
  readonly outdated: ReadonlySet<string>;
}

export interface BackwardsPairInput {
  readonly pool: string;
  /** the pool's instances fleet terminated this cycle, as they were when it began */
  readonly retired: readonly InstanceFact[];
  /** the pool's live instances when the cycle ended */
  readonly liveAfter: readonly InstanceFact[];
  readonly standing: ImageStanding;
}

/**
 * A replacement pair never moves a worker backwards: no worker on a current image is retired while
 * its replacement, staying on, runs an outdated one. The images changed under such a pair; its
 * reason no longer holds, and completing it would only buy a second turnover. (A replacement on a
 * drained image closes its pair: its target is a worker again, and may leave for any reason.)
 */
export function checkBackwardsPairs(input: BackwardsPairInput): Finding[] {
  const { standing } = input;
  const findings: Finding[] = [];
  for (const target of input.retired) {
    if (!standing.current.has(target.ami)) continue;
    for (const r of input.liveAfter) {
      if (r.replaces !== target.id || !standing.outdated.has(r.ami)) continue;
      findings.push({
        invariant: 'no-backwards-pair',
        detail: `${input.pool}: retired ${target.id} on current ${target.ami}; its replacement ${r.id} runs outdated ${r.ami}`,
      });
    }
  }
  return findings;
}

/** One view of a pool's images in one region: the manifest's images there (newest first) and the drained set fleet could have used. */
export interface ImageView {
  /** the manifest's images of the pool and region, drained ones included, newest first */
  readonly newestFirst: readonly string[];
  readonly drained: ReadonlySet<string>;
  /** images whose proof the journal remembered throughout the cycle */
  readonly remembered: ReadonlySet<string>;
}

/**
 * What every view agrees on. The newest usable image is always launchable (as candidate or as the
 * launch image), and so is the newest remembered one (fleet trusts it, unless a newer one is proved,
 * which is remembered by the cycle's end). Anything older than a remembered image is never trusted
 * nor on trial: outdated.
 */
export function imageStanding(views: readonly ImageView[]): ImageStanding {
  const per = views.map((v) => {
    const usable = v.newestFirst.filter((ami) => !v.drained.has(ami));
    const trusted = usable.findIndex((ami) => v.remembered.has(ami));
    const current = new Set([usable[0], trusted >= 0 ? usable[trusted] : undefined].filter((a): a is string => a !== undefined));
    const outdated = new Set(trusted >= 0 ? usable.slice(trusted + 1).filter((ami) => ami !== usable[0]) : []);
    return { current, outdated };
  });
  const every = (pick: (s: { current: Set<string>; outdated: Set<string> }) => Set<string>) => {
    const [first, ...rest] = per.map(pick);
    return new Set([...(first ?? [])].filter((ami) => rest.every((s) => s.has(ami))));
  };
  return { current: every((s) => s.current), outdated: every((s) => s.outdated) };
}
