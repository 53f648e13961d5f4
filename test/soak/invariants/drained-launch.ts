import type { Finding } from './types.js';

/** The drained set as stored from time `t` on (every write of drained.json, oldest first). */
export interface DrainedVersion {
  readonly t: number;
  readonly amis: readonly string[];
}

export interface RunCall {
  /** when the call left fleet */
  readonly sentAt: number;
  readonly ami: string;
  readonly clientToken: string;
  readonly name: string;
  readonly result: string;
}

/**
 * The drained set in force at time `t`: the last version stored at or before it. A process that
 * writes a drain and then launches does both at the same simulated instant (S3 takes no time here),
 * so a write at `t` counts as before a call sent at `t`.
 */
export function drainedAt(history: readonly DrainedVersion[], t: number): ReadonlySet<string> {
  let amis: readonly string[] = [];
  for (const v of history) {
    if (v.t > t) break;
    amis = v.amis;
  }
  return new Set(amis);
}

/** No RunInstances call names an AMI that was drained before the call was sent. */
export function checkDrainedLaunches(calls: readonly RunCall[], history: readonly DrainedVersion[]): Finding[] {
  return calls
    .filter((c) => drainedAt(history, c.sentAt).has(c.ami))
    .map((c) => ({
      invariant: 'no-drained-launch',
      detail: `RunInstances ${c.name} on drained ${c.ami} (token ${c.clientToken.slice(0, 14)}…, ${c.result})`,
    }));
}
