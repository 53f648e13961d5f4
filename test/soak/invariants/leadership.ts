import type { Finding } from './types.js';

/** A call that changes something in EC2, with the replica that sent it. */
export interface MutatingCall {
  readonly t: number;
  readonly replica: string;
  readonly action: string;
  readonly what: string;
}

const EC2_MUTATIONS = new Set(['RunInstances', 'TerminateInstances', 'CreateTags', 'DeregisterImage']);

/** After a stalled leader resumes, it sends no mutating EC2 call after the other replica's first launch. */
export function checkStalledLeader(calls: readonly MutatingCall[], stalled: string, successor: string): Finding[] {
  const firstLaunch = calls
    .filter((c) => c.replica === successor && c.action === 'RunInstances')
    .reduce((t, c) => Math.min(t, c.t), Number.POSITIVE_INFINITY);
  return calls
    .filter((c) => c.replica === stalled && EC2_MUTATIONS.has(c.action) && c.t > firstLaunch)
    .map((c) => ({
      invariant: 'stalled-leader-silent',
      detail: `${stalled} sent ${c.action} ${c.what} ${Math.round((c.t - firstLaunch) / 1000)}s after ${successor}'s first launch`,
    }));
}

export interface TakeoverWindow {
  readonly pool: string;
  readonly desired: number;
  /** a `none` pool cannot shrink by fleet's hand: reaching desired from below is all it can do */
  readonly scaleDown: 'none' | 'terminate';
  /** the pool's workers (live instances, a replacement pair counted once) at the end of each cycle after the stalled leader resumed */
  readonly liveAtCycleEnds: readonly number[];
  /**
   * the pool's live instances at the same moments: a pool at size.max with a replacement in flight
   * holds desired running instances while its worker count is one less (the old one stays until it can
   * leave without taking running capacity below desired)
   */
  readonly instancesAtCycleEnds?: readonly number[];
  /** size.max, and the pool's live instances at the same moments, those asked to leave and those EC2 warned included */
  readonly max?: number;
  readonly allInstancesAtCycleEnds?: readonly number[];
}

/** Whether a pool got to its desired size at the end of some cycle of the window. */
export function reachedDesired(w: TakeoverWindow): boolean {
  return (
    w.liveAtCycleEnds.some((live) => live === w.desired || (w.scaleDown === 'none' && live > w.desired)) ||
    (w.instancesAtCycleEnds ?? []).some((live) => live === w.desired)
  );
}

/**
 * Whether a pool short of desired was held at size.max at the end of some cycle of the window: its live
 * instances, workers asked to leave (busy ones keep their room until their deadline) and warned ones
 * included, filled size.max, so fleet had no room to launch into.
 */
export function heldAtMax(w: TakeoverWindow): boolean {
  const max = w.max;
  if (max === undefined) return false;
  return (w.allInstancesAtCycleEnds ?? []).some((all, i) => all >= max && (w.liveAtCycleEnds[i] ?? 0) < w.desired);
}

/**
 * After a takeover, every pool reaches exactly desired workers within the window (a `none` pool: at
 * least desired), or is held at size.max by instances on their way out at some cycle end of it; a
 * replacement in flight and the instance it replaces count as one worker.
 */
export function checkTakeoverConverged(windows: readonly TakeoverWindow[]): Finding[] {
  return windows
    .filter((w) => !reachedDesired(w) && !heldAtMax(w))
    .map((w) => ({
      invariant: 'takeover-converges',
      detail: `${w.pool}: never ${w.scaleDown === 'none' ? 'at least' : 'exactly'} ${w.desired} live in ${w.liveAtCycleEnds.length} cycles after the takeover (live ${summarise(w.liveAtCycleEnds)})`,
    }));
}

function summarise(counts: readonly number[]): string {
  return `${Math.min(...counts)}–${Math.max(...counts)}, last ${counts.at(-1)}`;
}
