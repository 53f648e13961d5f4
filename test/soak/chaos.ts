// The soak's fault windows: each fault the simulator has is switched on for a few cycles at random
// moments (drawn from the seed), overlapping freely, and counted by kind.

import type { FaultOptions, ObjectFault } from '../../src/fake-cloud/faults.js';
import type { Prng } from '../../src/fake-cloud/prng.js';

export type FaultKind =
  | 'throttling'
  | 'server-errors'
  | 'visibility-delay'
  | 'capacity-crunch'
  | 'pricing-outage'
  | 'lost-launch-requests'
  | 'lost-launch-responses'
  | 's3-outage'
  | 'corrupt-read'
  | 'bad-manifest'
  | 'process-kill'
  | 'operator-drain'
  | 'operator-undrain'
  | 'policy-edit'
  | 'leader-stall'
  | 'bake'
  | 'broken-bake'
  | 'demand-change'
  | 'foreign-instances'
  | 'stray-message'
  | 'duplicate-delivery'
  | 'ci-stale-list'
  | 'ci-ended-worker'
  | 'ci-omitted-busy';

interface Window {
  readonly kind: FaultKind;
  /** the first cycle after the window */
  readonly until: number;
  readonly value: number;
  readonly close?: () => void;
}

/** The faults that are windows of a rate or a delay, with how often one opens (per cycle) and how it looks. */
const WINDOWS: readonly { kind: FaultKind; chance: number; cycles: [number, number]; value: (rng: Prng) => number }[] = [
  { kind: 'throttling', chance: 1 / 70, cycles: [5, 20], value: (rng) => rng.between(0.1, 0.4) },
  { kind: 'server-errors', chance: 1 / 70, cycles: [3, 15], value: (rng) => rng.between(0.05, 0.2) },
  { kind: 'visibility-delay', chance: 1 / 50, cycles: [5, 30], value: (rng) => rng.int(30, 240) * 1000 },
  { kind: 'pricing-outage', chance: 1 / 120, cycles: [10, 60], value: () => 1 },
  { kind: 'lost-launch-requests', chance: 1 / 60, cycles: [1, 4], value: (rng) => rng.between(0.3, 1) },
  { kind: 'lost-launch-responses', chance: 1 / 50, cycles: [1, 4], value: (rng) => rng.between(0.3, 1) },
];

export class FaultWindows {
  private windows: Window[] = [];
  private objectFaults: ObjectFault[] = [];
  /** every S3 fault opened, for the judge: one that has ended still excuses what it hindered */
  private readonly objectFaultHistory: ObjectFault[] = [];
  readonly injected: Partial<Record<FaultKind, number>> = {};

  count(kind: FaultKind, n = 1): void {
    this.injected[kind] = (this.injected[kind] ?? 0) + n;
  }

  open(kind: FaultKind, cycle: number, cycles: number, value: number, close?: () => void): void {
    this.windows.push({ kind, until: cycle + cycles, value, ...(close ? { close } : {}) });
    this.count(kind);
  }

  /** An S3 outage or corrupt-read window. */
  openObjectFault(fault: ObjectFault): void {
    this.objectFaults.push(fault);
    this.objectFaultHistory.push(fault);
    this.count(fault.kind === 'outage' ? 's3-outage' : 'corrupt-read');
  }

  /** Maybe open new rate and delay windows this cycle. */
  roll(rng: Prng, cycle: number): void {
    for (const w of WINDOWS) {
      if (!rng.chance(w.chance)) continue;
      this.open(w.kind, cycle, rng.int(w.cycles[0], w.cycles[1]), w.value(rng));
    }
  }

  /** Close what has run its course and say what is in force for this cycle. */
  options(cycle: number, now: number): Partial<FaultOptions> {
    for (const w of this.windows) if (w.until <= cycle) w.close?.();
    this.windows = this.windows.filter((w) => w.until > cycle);
    this.objectFaults = this.objectFaults.filter((f) => f.until > now);
    const top = (kind: FaultKind) => Math.max(0, ...this.windows.filter((w) => w.kind === kind).map((w) => w.value));
    return {
      throttleRate: top('throttling'),
      serverErrorRate: top('server-errors'),
      visibilityDelayMs: top('visibility-delay'),
      pricingUnavailable: top('pricing-outage') > 0,
      lostLaunchRequests: top('lost-launch-requests'),
      lostLaunchResponses: top('lost-launch-responses'),
      objectFaults: [...this.objectFaults],
    };
  }

  /** End every window of this kind now. */
  close(kind: FaultKind): void {
    for (const w of this.windows) if (w.kind === kind) w.close?.();
    this.windows = this.windows.filter((w) => w.kind !== kind);
  }

  active(kind: FaultKind): boolean {
    return this.windows.some((w) => w.kind === kind);
  }

  /** Whether any S3 fault, in force now or ended, touched this key between two times. */
  objectFaultOn(bucket: string, key: string, from: number, to: number): boolean {
    return this.objectFaultEnd(bucket, key, from, to) !== undefined;
  }

  /** When the last S3 fault that touched this key between two times ends (or ended); undefined if none did. */
  objectFaultEnd(bucket: string, key: string, from: number, to: number): number | undefined {
    const ends = this.objectFaultHistory
      .filter((f) => f.bucket === bucket && key.startsWith(f.keyPrefix) && (f.from ?? -Infinity) < to && f.until > from)
      .map((f) => f.until);
    return ends.length === 0 ? undefined : Math.max(...ends);
  }
}
