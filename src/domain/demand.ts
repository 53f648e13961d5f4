/**
 * What the desired document says about one pool (SPEC §4): a plain count is `{desired: n}`; the
 * object form may carry the CI's queue facts instead of, or next to, a count.
 */
export interface PoolDemand {
  /** the count the publisher wants, used as given */
  readonly desired?: number;
  /** jobs waiting for a worker */
  readonly pending?: number;
  /** jobs running now */
  readonly running?: number;
  /** seconds the oldest waiting job has waited */
  readonly oldestPendingSeconds?: number;
  /** slot names of the workers that run a job now */
  readonly busy?: readonly string[];
}

/** What the estimator remembers between cycles: the size it holds while demand is lower. */
export interface DemandMemory {
  /** the size last worked out and kept */
  readonly held: number;
  /** epoch ms since which demand has stayed below `held` */
  readonly belowSince?: number;
  /** the highest demand seen since then: the size kept once the surplus has lasted `idleTimeout` */
  readonly peakBelow?: number;
}
