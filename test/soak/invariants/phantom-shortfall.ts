import { type Finding, type InstanceFact, openPairs } from './types.js';

/** A launch slot sent for the first time this cycle (a re-send of an earlier token is none). */
export interface NewLaunch {
  readonly name: string;
  /** the instance it replaces, if any */
  readonly replaces?: string;
}

export interface PhantomShortfallInput {
  readonly pool: string;
  /** the pool's live instances when the cycle began, as fleet could list them */
  readonly before: readonly InstanceFact[];
  /** images drained at any time during the cycle: their instances are no workers */
  readonly drained: ReadonlySet<string>;
  /** instances that stopped being workers during the cycle: warned, interrupted, shut down, failed to boot, or terminated by fleet itself */
  readonly leaving: ReadonlySet<string>;
  /** the highest desired count the cycle could have acted on */
  readonly desiredHigh: number;
  readonly launches: readonly NewLaunch[];
}

/**
 * Workers as the specification counts them: live instances on launchable images, a replacement
 * pair once (a replacement whose target runs a drained image is one worker, not none).
 */
export function servingWorkers(input: Pick<PhantomShortfallInput, 'before' | 'drained' | 'leaving'>): number {
  return serving(input).length;
}

/** The instances that are workers, each pair's target left out (its replacement stands for the pair). */
function serving(input: Pick<PhantomShortfallInput, 'before' | 'drained' | 'leaving'>): InstanceFact[] {
  const workers = input.before.filter((i) => !input.drained.has(i.ami) && !input.leaving.has(i.id));
  const targets = new Set(openPairs(workers).map((p) => p.target.id));
  return workers.filter((i) => !targets.has(i.id));
}

/**
 * A pool already serving its desired count gets no launch that replaces nothing: beyond desired,
 * fleet grows a pool only by replacement pairs. (A shortfall seen where none exists launches one
 * worker too many, and scale-down pays for it later.)
 */
export function checkPhantomShortfall(input: PhantomShortfallInput): Finding[] {
  const { pool, desiredHigh } = input;
  const workers = serving(input);
  const scaleUps = input.launches.filter((l) => l.replaces === undefined);
  if (workers.length < desiredHigh || scaleUps.length === 0) return [];
  return [
    {
      invariant: 'no-phantom-shortfall',
      key: pool,
      detail: `${pool}: launched ${[...new Set(scaleUps.map((l) => l.name))].join(', ')} replacing nothing with ${workers.length} workers serving (${workers.map((i) => `${i.id} ${i.state}`).join(', ')}), desired ${desiredHigh}`,
    },
  ];
}
