import type { QueueFacts } from '../policy/estimator.js';

/** The state document GitHub's `workflow_job` webhooks are kept in, shared by every replica. */
export const GITHUB_JOBS_DOC = 'github-jobs.json';

export type JobState = 'queued' | 'in_progress' | 'completed';

export interface GithubJob {
  readonly state: JobState;
  /** lower-case runner labels the job asked for */
  readonly labels: readonly string[];
  /** epoch ms the job was queued (GitHub's created_at, else when fleet heard of it) */
  readonly queuedAt: number;
  /** epoch ms of the last delivery about it */
  readonly updatedAt: number;
}

export interface GithubJobsDoc {
  readonly version: 1;
  /** job id → job; a completed job stays a while so a late `queued` cannot bring it back */
  readonly jobs: Readonly<Record<string, GithubJob>>;
  /** X-GitHub-Delivery id → epoch ms received: a delivery seen before is refused */
  readonly deliveries: Readonly<Record<string, number>>;
}

export const EMPTY_GITHUB_JOBS: GithubJobsDoc = { version: 1, jobs: {}, deliveries: {} };

/** Bounds that keep the document small and recover from deliveries GitHub never made. */
export const GITHUB_LIMITS = {
  /** a job queued this long is taken as lost (GitHub itself cancels a job queued for 24 h) */
  queuedExpiryMs: 24 * 3600_000,
  /** a job running with no news this long is taken as lost (a missed `completed`) */
  runningExpiryMs: 24 * 3600_000,
  /** how long a completed job and a delivery id are remembered */
  completedKeepMs: 3600_000,
  deliveriesKeptMs: 24 * 3600_000,
  maxDeliveries: 20_000,
  maxJobs: 50_000,
} as const;

const RANK: Record<JobState, number> = { queued: 0, in_progress: 1, completed: 2 };

export interface WorkflowJobEvent {
  readonly id: string;
  readonly state: JobState;
  readonly labels: readonly string[];
  /** epoch ms, when GitHub said */
  readonly createdAt?: number;
}

/** The document with one delivery applied, or 'replay' when that delivery was seen before. */
export function applyDelivery(
  doc: GithubJobsDoc,
  delivery: string,
  event: WorkflowJobEvent | undefined,
  now: number,
): GithubJobsDoc | 'replay' {
  if (doc.deliveries[delivery] !== undefined) return 'replay';
  const jobs = { ...doc.jobs };
  if (event) {
    const known = jobs[event.id];
    // Deliveries may arrive out of order: a job never goes back (a late `queued` after `completed`).
    if (!known || RANK[event.state] > RANK[known.state]) {
      jobs[event.id] = {
        state: event.state,
        labels: known?.labels ?? event.labels,
        queuedAt: known?.queuedAt ?? Math.min(event.createdAt ?? now, now),
        updatedAt: now,
      };
    }
  }
  return pruned({ version: 1, jobs, deliveries: { ...doc.deliveries, [delivery]: now } }, now);
}

/** Drops what has expired: lost jobs, old completed ones, old delivery ids; keeps the newest within the caps. */
export function pruned(doc: GithubJobsDoc, now: number): GithubJobsDoc {
  const live = Object.entries(doc.jobs).filter(([, j]) => !expired(j, now));
  const jobs = live.sort(([, a], [, b]) => b.updatedAt - a.updatedAt).slice(0, GITHUB_LIMITS.maxJobs);
  const deliveries = Object.entries(doc.deliveries)
    .filter(([, at]) => now - at < GITHUB_LIMITS.deliveriesKeptMs)
    .sort(([, a], [, b]) => b - a)
    .slice(0, GITHUB_LIMITS.maxDeliveries);
  return { version: 1, jobs: Object.fromEntries(jobs), deliveries: Object.fromEntries(deliveries) };
}

function expired(job: GithubJob, now: number): boolean {
  if (job.state === 'completed') return now - job.updatedAt >= GITHUB_LIMITS.completedKeepMs;
  if (job.state === 'queued') return now - job.queuedAt >= GITHUB_LIMITS.queuedExpiryMs;
  return now - job.updatedAt >= GITHUB_LIMITS.runningExpiryMs;
}

/** Per pool: its queued and running jobs (a job matches when it asks for every label of the pool). */
export function jobFacts(doc: GithubJobsDoc, pools: ReadonlyMap<string, readonly string[]>, now: number): Record<string, QueueFacts> {
  const out: Record<string, QueueFacts> = {};
  for (const [pool, labels] of pools) {
    let pending = 0;
    let running = 0;
    let oldest: number | undefined;
    for (const job of Object.values(doc.jobs)) {
      if (expired(job, now) || job.state === 'completed' || !labels.every((l) => job.labels.includes(l))) continue;
      if (job.state === 'in_progress') running++;
      else {
        pending++;
        oldest = Math.min(oldest ?? job.queuedAt, job.queuedAt);
      }
    }
    out[pool] = {
      pending,
      running,
      ...(oldest !== undefined ? { oldestPendingSeconds: Math.max(0, Math.floor((now - oldest) / 1000)) } : {}),
    };
  }
  return out;
}
