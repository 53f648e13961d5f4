// The simulated CI: jobs queue per pool and run one at a time on the pool's workers, as a real CI
// runs them. A worker takes jobs once it has booted and passed its boot check (`check-ami`), and
// only while it is up; a worker that ends under a job throws the job away, and the job goes back to
// the front of its queue. The CI knows its workers the way a real one does: by their agents
// showing up and going away, never by anything fleet decides.

import type { Prng } from '../../fake-cloud/prng.js';
import { arrivalsBetween } from './arrivals.js';
import { type DurationModel, defaultDurations, drawDurationMs, meanMinutes } from './durations.js';

/** A worker as the CI sees it. */
export interface CiWorker {
  readonly id: string;
  /** its slot name ('' when it has none) */
  readonly name: string;
  /** when it can take its first job (booted, boot check passed); undefined: never (the check fails) */
  readonly readyAt: number | undefined;
  /** when it began to shut down */
  readonly endedAt: number | undefined;
  /** asked to leave, and its agent heard it: it finishes its job and takes no new one */
  readonly leaving?: boolean;
}

/** Where the CI's workers come from: the simulated world, or a baseline's own instances. */
export interface WorkerSource {
  /** the pool's workers that may be up after `from` (ended ones still holding a run included) */
  workers(pool: string, from: number, holdsRun: (id: string) => boolean): CiWorker[];
  /** why a worker ended: spot-interruption, instance-initiated (its own poweroff), user (a termination fleet did not record), or the cause of the action that ended it */
  endCause(id: string): string;
}

export interface CiOptions {
  readonly durations?: (pool: string) => DurationModel;
}

interface Job {
  readonly id: number;
  readonly pool: string;
  readonly arrivedAt: number;
  readonly durationMs: number;
  /** when it last entered the queue: its arrival, or the end of the worker that lost it */
  queuedAt: number;
}

interface Run {
  readonly job: Job;
  readonly worker: string;
  readonly name: string;
  readonly startedAt: number;
  readonly endsAt: number;
}

interface PoolTally {
  completed: number;
  /** ms from arrival to the start of the run that completed, per completed job */
  readonly waits: number[];
  /** when each completed job arrived, in the order of `waits` */
  readonly arrivals: number[];
  /** per cause of the worker's end, how long each lost run had run (ms): the jobs killed and their lost time */
  readonly lostRuns: Record<string, number[]>;
  /** ms workers spent running jobs, lost runs included */
  busyMs: number;
}

/** A pool's queue as the CI reports it. */
export interface QueueState {
  readonly pending: number;
  readonly running: number;
  /** seconds the longest-waiting pending job has been queued (0: none pending) */
  readonly oldestPendingSeconds: number;
  /** slot names of the workers running a job now */
  readonly busy: readonly string[];
}

const emptyTally = (): PoolTally => ({ completed: 0, waits: [], arrivals: [], lostRuns: {}, busyMs: 0 });

export class SimCi {
  private readonly queues = new Map<string, Job[]>();
  /** pool → worker instance id → its run */
  private readonly runs = new Map<string, Map<string, Run>>();
  private readonly tallies = new Map<string, PoolTally>();
  private readonly durations: (pool: string) => DurationModel;
  /** the workers of the interval being run, by id */
  private current = new Map<string, CiWorker>();
  private now: number;
  private nextId = 1;

  constructor(
    private readonly source: WorkerSource,
    private readonly pools: readonly string[],
    private readonly rng: Prng,
    start: number,
    options: CiOptions = {},
  ) {
    this.now = start;
    this.durations = options.durations ?? defaultDurations;
    for (const pool of pools) {
      this.queues.set(pool, []);
      this.tallies.set(pool, emptyTally());
    }
  }

  /**
   * Run the CI up to `t`. `load`: per pool, the workers' worth of jobs the day's curve calls for;
   * jobs arrive at load / mean run time a minute over the interval.
   */
  advance(t: number, load: Readonly<Record<string, number>>): void {
    const from = this.now;
    if (t <= from) return;
    for (const pool of this.pools) {
      const perMinute = (load[pool] ?? 0) / meanMinutes(this.durations(pool));
      const arrivals = arrivalsBetween(from, t, perMinute, this.rng).map((at) => this.newJob(pool, at));
      this.runPool(pool, from, t, arrivals);
    }
    this.now = t;
  }

  /** Add jobs to a pool's queue now (tests, and anyone driving the CI by hand). */
  submit(pool: string, durationMs: number, at = this.now): void {
    this.queues.get(pool)?.push({ id: this.nextId++, pool, arrivedAt: at, durationMs, queuedAt: at });
  }

  /** Each pool's queue and running jobs at the last `advance`. */
  queueState(): Record<string, QueueState> {
    const out: Record<string, QueueState> = {};
    for (const [pool, queue] of this.queues) {
      const mine = [...this.poolRuns(pool).values()];
      const oldest = queue.reduce((min, j) => Math.min(min, j.queuedAt), this.now);
      out[pool] = {
        pending: queue.length,
        running: mine.length,
        oldestPendingSeconds: Math.round((this.now - oldest) / 1000),
        busy: mine
          .map((r) => r.name)
          .filter((n) => n !== '')
          .sort(),
      };
    }
    return out;
  }

  /** Instance ids of the workers running a job now. */
  busyWorkers(): ReadonlySet<string> {
    return new Set([...this.runs.values()].flatMap((runs) => [...runs.keys()]));
  }

  /** What happened to work in the pool so far; runs still going count their busy time up to `end`. */
  tally(
    pool: string,
    end = this.now,
  ): {
    completed: number;
    waitsMs: readonly number[];
    arrivalsMs: readonly number[];
    killed: Readonly<Record<string, number>>;
    lostMs: number;
    lostRuns: Readonly<Record<string, readonly number[]>>;
    busyMs: number;
  } {
    const tally = this.tallies.get(pool) ?? emptyTally();
    let busyMs = tally.busyMs;
    for (const r of this.poolRuns(pool).values()) busyMs += Math.max(0, Math.min(end, r.endsAt) - r.startedAt);
    return {
      completed: tally.completed,
      waitsMs: tally.waits,
      arrivalsMs: tally.arrivals,
      killed: Object.fromEntries(Object.entries(tally.lostRuns).map(([cause, runs]) => [cause, runs.length])),
      lostMs: Object.values(tally.lostRuns).reduce((sum, runs) => runs.reduce((s, ms) => s + ms, sum), 0),
      lostRuns: tally.lostRuns,
      busyMs,
    };
  }

  private newJob(pool: string, at: number): Job {
    return { id: this.nextId++, pool, arrivedAt: at, durationMs: drawDurationMs(this.durations(pool), this.rng), queuedAt: at };
  }

  /** Event by event through (from, t]: runs end or are lost, jobs arrive, free workers take the queue's front. */
  private runPool(pool: string, from: number, t: number, arrivals: readonly Job[]): void {
    const runs = this.poolRuns(pool);
    const workers = this.source.workers(pool, from, (id) => runs.has(id));
    this.current = new Map(workers.map((w) => [w.id, w]));
    const queue = this.queues.get(pool) as Job[];
    const fixed = new Set<number>([t, ...arrivals.map((j) => j.arrivedAt)]);
    for (const w of workers) {
      for (const at of [w.readyAt, w.endedAt]) if (at !== undefined && at > from && at <= t) fixed.add(at);
    }
    const moments = [...fixed].sort((a, b) => a - b);
    let k = 0;
    let arrived = 0;
    let m = from;
    for (;;) {
      while (k < moments.length && (moments[k] as number) <= m) k++;
      const due = Math.min(moments[k] ?? Number.POSITIVE_INFINITY, this.earliestEnd(pool));
      if (due > t) return;
      m = Math.max(m, due);
      this.finishRuns(pool, m);
      while (arrived < arrivals.length && (arrivals[arrived] as Job).arrivedAt <= m) queue.push(arrivals[arrived++] as Job);
      this.assign(pool, queue, workers, m);
    }
  }

  private earliestEnd(pool: string): number {
    let first = Number.POSITIVE_INFINITY;
    for (const r of this.poolRuns(pool).values()) first = Math.min(first, r.endsAt, this.endOf(r) ?? first);
    return first;
  }

  private poolRuns(pool: string): Map<string, Run> {
    let runs = this.runs.get(pool);
    if (!runs) {
      runs = new Map();
      this.runs.set(pool, runs);
    }
    return runs;
  }

  /** Complete the runs due by `at` whose worker outlived them; lose those whose worker ended first. */
  private finishRuns(pool: string, at: number): void {
    const tally = this.tallies.get(pool) as PoolTally;
    const lost: Job[] = [];
    const runs = this.poolRuns(pool);
    for (const [id, r] of runs) {
      const endedAt = this.endOf(r);
      if (r.endsAt <= at && (endedAt === undefined || r.endsAt <= endedAt)) {
        runs.delete(id);
        tally.completed++;
        tally.waits.push(r.startedAt - r.job.arrivedAt);
        tally.arrivals.push(r.job.arrivedAt);
        tally.busyMs += r.endsAt - r.startedAt;
      } else if (endedAt !== undefined && endedAt <= at) {
        runs.delete(id);
        const cause = this.source.endCause(r.worker);
        (tally.lostRuns[cause] ??= []).push(endedAt - r.startedAt);
        tally.busyMs += endedAt - r.startedAt;
        r.job.queuedAt = endedAt;
        lost.push(r.job);
      }
    }
    // Lost jobs go back to the front of the queue, oldest first.
    if (lost.length > 0) this.queues.get(pool)?.unshift(...lost.sort((a, b) => a.arrivedAt - b.arrivedAt));
  }

  private assign(pool: string, queue: Job[], workers: readonly CiWorker[], at: number): void {
    const runs = this.poolRuns(pool);
    for (const w of workers) {
      if (queue.length === 0) return;
      if (runs.has(w.id) || w.leaving === true || w.readyAt === undefined || w.readyAt > at || (w.endedAt !== undefined && w.endedAt <= at))
        continue;
      const job = queue.shift() as Job;
      runs.set(w.id, { job, worker: w.id, name: w.name, startedAt: at, endsAt: at + job.durationMs });
    }
  }

  /** When the run's worker began to shut down, as last seen. */
  private endOf(r: Run): number | undefined {
    return this.current.get(r.worker)?.endedAt;
  }
}
