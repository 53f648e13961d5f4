import type { Logger } from 'pino';
import type { PoolPolicy } from '../domain/policy.js';
import type { StateStore } from '../shared/state-store.js';
import { GithubJobsSource } from './github.js';
import { PrometheusSource } from './prometheus.js';
import { DemandReader, type DemandSource } from './source.js';

export interface SourceDeps {
  readonly state: StateStore;
  readonly now: () => number;
  readonly log: Logger;
  /** an SQS queue's depth as a pool's jobs (absent on a cloud without SQS) */
  readonly sqsDepth?: (pool: string, queueUrl: string) => DemandSource;
}

/** The sources the policies' `demand.source` name, read together; undefined when no policy names one. */
export function demandReader(policies: readonly PoolPolicy[], deps: SourceDeps): DemandReader | undefined {
  const sources: DemandSource[] = [];
  const github = new Map<string, readonly string[]>();
  for (const policy of policies) {
    const source = policy.demand.source;
    if (source?.kind === 'prometheus') sources.push(new PrometheusSource(policy.pool, source));
    else if (source?.kind === 'sqs') {
      if (deps.sqsDepth) sources.push(deps.sqsDepth(policy.pool, source.queueUrl));
      else deps.log.warn({ pool: policy.pool }, 'this cloud has no SQS: demand.source.sqs is ignored');
    } else if (source?.kind === 'github') github.set(policy.pool, source.labels);
  }
  if (github.size > 0) sources.push(new GithubJobsSource(github, deps.state, deps.now));
  return sources.length > 0 ? new DemandReader(sources, deps.log) : undefined;
}
