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
