import type { Logger } from 'pino';
import type { QueueFacts } from '../policy/estimator.js';

/** One source of queue facts (Prometheus, an SQS queue, GitHub's webhooks) for the pools it serves. */
export interface DemandSource {
  /** for log lines: "prometheus http://...", "sqs https://..." */
  readonly name: string;
  readonly pools: readonly string[];
  /** facts per pool it could read; a pool it could not read is missing (or the whole call throws) */
  read(signal: AbortSignal): Promise<Record<string, QueueFacts>>;
}

/** Most jobs a source may report for one pool: beyond it the answer is nonsense. */
export const MAX_JOBS = 1_000_000;
const READ_DEADLINE_MS = 10_000;

/**
 * Reads every source each cycle within a deadline and keeps each pool's last good facts: a source
 * that fails, hangs or answers nonsense leaves its pools at what it said last (never lower).
 */
export class DemandReader {
  private readonly lastGood = new Map<string, QueueFacts>();

  constructor(
    private readonly sources: readonly DemandSource[],
    private readonly log: Logger,
    private readonly deadlineMs = READ_DEADLINE_MS,
  ) {}

  /** pools some source serves */
  get pools(): ReadonlySet<string> {
    return new Set(this.sources.flatMap((s) => s.pools));
  }

  async read(): Promise<Record<string, QueueFacts>> {
    await Promise.all(this.sources.map((s) => this.readOne(s)));
    return Object.fromEntries(this.lastGood);
  }

  private async readOne(source: DemandSource): Promise<void> {
    let facts: Record<string, QueueFacts>;
    try {
      facts = await withDeadline((signal) => source.read(signal), this.deadlineMs);
    } catch (e) {
      this.log.warn(
        { source: source.name, pools: source.pools, error: (e as Error).message },
        'demand source failed; keeping the last good values',
      );
      return;
    }
    for (const pool of source.pools) {
      const problem = factsProblem(facts[pool]);
      if (problem)
        this.log.warn({ source: source.name, pool, problem }, `demand source skipped for ${pool}: ${problem}; keeping the last good value`);
      else this.lastGood.set(pool, facts[pool] as QueueFacts);
    }
  }
}

/** Why facts cannot be used: missing, or a count that is not a whole number from 0 to MAX_JOBS. */
export function factsProblem(facts: QueueFacts | undefined): string | undefined {
  if (facts === undefined) return 'no answer';
  for (const [key, value] of Object.entries(facts)) {
    if (value === undefined && key === 'oldestPendingSeconds') continue;
    if (
      typeof value !== 'number' ||
      !Number.isFinite(value) ||
      value < 0 ||
      value > MAX_JOBS * 1000 ||
      (key !== 'oldestPendingSeconds' && (!Number.isInteger(value) || value > MAX_JOBS))
    ) {
      return `${key} is ${String(value)}`;
    }
  }
  return undefined;
}

/** Runs `work` with an abort signal, and gives up at the deadline even if the work ignores it. */
export async function withDeadline<T>(work: (signal: AbortSignal) => Promise<T>, ms: number): Promise<T> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort();
      reject(new Error(`no answer within ${ms / 1000}s`));
    }, ms);
  });
  try {
    return await Promise.race([work(controller.signal), deadline]);
  } finally {
    clearTimeout(timer);
  }
}
