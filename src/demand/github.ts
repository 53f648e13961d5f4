import type { QueueFacts } from '../policy/estimator.js';
import type { StateStore } from '../shared/state-store.js';
import { EMPTY_GITHUB_JOBS, GITHUB_JOBS_DOC, type GithubJobsDoc, jobFacts } from './github-jobs.js';
import type { DemandSource } from './source.js';

/** Pools' jobs from GitHub's `workflow_job` webhooks, as the listener keeps them in the state store. */
export class GithubJobsSource implements DemandSource {
  readonly name = 'github webhooks';
  readonly pools: readonly string[];

  constructor(
    private readonly labels: ReadonlyMap<string, readonly string[]>,
    private readonly state: StateStore,
    private readonly now: () => number,
  ) {
    this.pools = [...labels.keys()];
  }

  async read(): Promise<Record<string, QueueFacts>> {
    const kept = await this.state.read<GithubJobsDoc>(GITHUB_JOBS_DOC);
    const doc = kept?.doc ?? EMPTY_GITHUB_JOBS;
    if (typeof doc !== 'object' || doc === null || typeof doc.jobs !== 'object' || doc.jobs === null)
      throw new Error(`state ${GITHUB_JOBS_DOC} is not a jobs document`);
    return jobFacts(doc, this.labels, this.now());
  }
}
