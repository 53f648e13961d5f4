import type { Member } from './ledger.js';
import { type Step, replaceOldest } from './pool.js';

/**
 * Workers older than `maxLifetime` (when set) are replaced, launch first like outdated ones, oldest
 * first and idle ones before busy ones, within what is left of the retire budget. Returns how many.
 */
export function lifetimeReplacements(step: Step, budget: number): number {
  const { ctx, ledger } = step;
  const maxMs = ctx.policy.maxLifetimeSeconds * 1000;
  if (maxMs <= 0 || budget <= 0) return 0;
  const old: Member[] = [];
  for (const m of ledger.unpaired()) if (m.instance && m.status !== 'drained' && ctx.now - m.instance.launchTime >= maxMs) old.push(m);
  const hours = (m: Member) => Math.floor((ctx.now - (m.instance?.launchTime ?? ctx.now)) / 3600_000);
  return replaceOldest(
    step,
    old,
    budget,
    'lifetime',
    (m) => `replace ${m.key} (${m.name}): running ${hours(m)}h, past maxLifetime ${ctx.policy.maxLifetimeSeconds}s`,
  );
}
