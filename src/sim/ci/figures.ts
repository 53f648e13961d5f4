// Figures about work done by the simulated CI, for the sim summary: jobs completed, how long they
// waited, how many were thrown away and by what, and the cost of each completed job.

export interface JobFigures {
  readonly completed: number;
  /** from a job's arrival to the start of the run that completed it (lost runs and requeues included) */
  readonly waitSeconds: { readonly p50: number; readonly p95: number; readonly max: number };
  /** runs lost when their worker ended, by why it ended */
  readonly killed: Readonly<Record<string, number>>;
  /** worker-minutes of lost runs */
  readonly lostJobMinutes: number;
  /** dollars per completed job (null: none completed) */
  readonly costPerJob: number | null;
}

export interface WorkTally {
  readonly completed: number;
  readonly waitsMs: readonly number[];
  readonly killed: Readonly<Record<string, number>>;
  readonly lostMs: number;
}

const round = (n: number, digits = 2) => Math.round(n * 10 ** digits) / 10 ** digits;

/** The figures of one or more pools' tallies together; `cost` in dollars. */
export function jobFigures(tallies: readonly WorkTally[], cost: number): JobFigures {
  const waits = tallies.flatMap((t) => t.waitsMs).sort((a, b) => a - b);
  const completed = tallies.reduce((sum, t) => sum + t.completed, 0);
  return {
    completed,
    waitSeconds: {
      p50: seconds(percentile(waits, 0.5)),
      p95: seconds(percentile(waits, 0.95)),
      max: seconds(waits[waits.length - 1] ?? 0),
    },
    killed: addCounts(tallies.map((t) => t.killed)),
    lostJobMinutes: round(tallies.reduce((sum, t) => sum + t.lostMs, 0) / 60_000, 1),
    costPerJob: completed === 0 ? null : round(cost / completed, 4),
  };
}

/** Nearest-rank percentile of sorted values (0 for none). */
export function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] as number;
}

/** Counts by key, added up, keys sorted. */
export function addCounts(counts: readonly Readonly<Record<string, number>>[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const c of counts) for (const [k, n] of Object.entries(c)) out[k] = (out[k] ?? 0) + n;
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => a.localeCompare(b)));
}

function seconds(ms: number): number {
  return Math.round(ms / 1000);
}
