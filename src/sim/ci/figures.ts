// Figures about work done by the simulated CI, for the sim summary: jobs completed, how long they
// waited, how many were thrown away and by what, and the cost of each completed job.

/** Seconds waited: median, 95th percentile, longest. */
export interface Waits {
  readonly p50: number;
  readonly p95: number;
  readonly max: number;
}

export interface JobFigures {
  readonly completed: number;
  /** from a job's arrival to the start of the run that completed it (lost runs and requeues included) */
  readonly waitSeconds: Waits;
  /** runs lost when their worker ended, by why it ended */
  readonly killed: Readonly<Record<string, number>>;
  /** worker-minutes of lost runs */
  readonly lostJobMinutes: number;
  /** dollars per completed job (null: none completed) */
  readonly costPerJob: number | null;
  /** the completed jobs that arrived in the workload's working hours (when the run has them) */
  readonly workingHours?: WorkingHoursFigures;
}

/** Hours of each day, UTC, from `fromHour` up to (not including) `toHour`. */
export interface WorkingHours {
  readonly fromHour: number;
  readonly toHour: number;
}

export interface WorkingHoursFigures {
  /** "10:00-22:00" */
  readonly utc: string;
  readonly completed: number;
  readonly waitSeconds: Waits;
}

export interface WorkTally {
  readonly completed: number;
  readonly waitsMs: readonly number[];
  /** when each completed job arrived, in the order of `waitsMs` */
  readonly arrivalsMs?: readonly number[];
  readonly killed: Readonly<Record<string, number>>;
  readonly lostMs: number;
}

const round = (n: number, digits = 2) => Math.round(n * 10 ** digits) / 10 ** digits;

/** The figures of one or more pools' tallies together; `cost` in dollars. */
export function jobFigures(tallies: readonly WorkTally[], cost: number, hours?: WorkingHours): JobFigures {
  const completed = tallies.reduce((sum, t) => sum + t.completed, 0);
  return {
    completed,
    waitSeconds: waitFigures(tallies.flatMap((t) => t.waitsMs)),
    killed: addCounts(tallies.map((t) => t.killed)),
    lostJobMinutes: round(tallies.reduce((sum, t) => sum + t.lostMs, 0) / 60_000, 1),
    costPerJob: completed === 0 ? null : round(cost / completed, 4),
    ...(hours ? { workingHours: workingHoursFigures(tallies, hours) } : {}),
  };
}

/** The waits of the completed jobs that arrived in working hours. */
function workingHoursFigures(tallies: readonly WorkTally[], hours: WorkingHours): WorkingHoursFigures {
  const waits = tallies.flatMap((t) => t.waitsMs.filter((_, k) => inWorkingHours(t.arrivalsMs?.[k], hours)));
  return { utc: `${hh(hours.fromHour)}-${hh(hours.toHour)}`, completed: waits.length, waitSeconds: waitFigures(waits) };
}

/** Whether a time of day (UTC) falls in the working hours. */
export function inWorkingHours(t: number | undefined, hours: WorkingHours): boolean {
  if (t === undefined) return false;
  const hour = (((t % DAY_MS) + DAY_MS) % DAY_MS) / 3600_000;
  return hour >= hours.fromHour && hour < hours.toHour;
}

const DAY_MS = 86_400_000;

function hh(hour: number): string {
  return `${String(Math.floor(hour)).padStart(2, '0')}:${String(Math.round((hour % 1) * 60)).padStart(2, '0')}`;
}

/** Median, 95th percentile and longest of the waits, in whole seconds. */
export function waitFigures(waitsMs: readonly number[]): Waits {
  const waits = [...waitsMs].sort((a, b) => a - b);
  return {
    p50: seconds(percentile(waits, 0.5)),
    p95: seconds(percentile(waits, 0.95)),
    max: seconds(waits[waits.length - 1] ?? 0),
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
