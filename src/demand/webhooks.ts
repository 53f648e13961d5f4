import { createHmac, timingSafeEqual } from 'node:crypto';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { Logger } from 'pino';
import { CloudError } from '../cloud/errors.js';
import type { StateStore } from '../shared/state-store.js';
import { applyDelivery, EMPTY_GITHUB_JOBS, GITHUB_JOBS_DOC, type GithubJobsDoc, type WorkflowJobEvent } from './github-jobs.js';

/** GitHub's `workflow_job` payloads are a few kB; anything far larger is refused unread. */
export const MAX_WEBHOOK_BYTES = 256 * 1024;
const WRITE_ATTEMPTS = 5;
const DELIVERY_ID = /^[A-Za-z0-9-]{1,100}$/;

export interface WebhookDeps {
  readonly secret: string;
  readonly state: StateStore;
  readonly log: Logger;
  readonly now: () => number;
}

/** Whether `X-Hub-Signature-256` is the HMAC-SHA256 of the body under the secret (compared in constant time). */
export function signatureValid(secret: string, body: Buffer, header: string | undefined): boolean {
  if (header === undefined || !/^sha256=[0-9a-f]{64}$/.test(header)) return false;
  const expected = Buffer.from(`sha256=${createHmac('sha256', secret).update(body).digest('hex')}`);
  return timingSafeEqual(expected, Buffer.from(header));
}

/** The job a `workflow_job` payload is about, or why it cannot be used. */
export function parseWorkflowJob(body: Buffer): WorkflowJobEvent | string {
  let payload: { action?: unknown; workflow_job?: { id?: unknown; labels?: unknown; created_at?: unknown } };
  try {
    payload = JSON.parse(body.toString('utf8')) as typeof payload;
  } catch {
    return 'not JSON';
  }
  const action = payload.action;
  const job = payload.workflow_job;
  if (action !== 'queued' && action !== 'in_progress' && action !== 'completed')
    return `action ${JSON.stringify(action)} is not queued, in_progress or completed`;
  if (typeof job !== 'object' || job === null) return 'no workflow_job';
  if (typeof job.id !== 'number' || !Number.isSafeInteger(job.id) || job.id <= 0) return 'workflow_job.id is not a job id';
  if (!Array.isArray(job.labels) || job.labels.length > 100 || !job.labels.every((l) => typeof l === 'string' && l.length <= 100))
    return 'workflow_job.labels is not a list of labels';
  const created = typeof job.created_at === 'string' ? Date.parse(job.created_at) : Number.NaN;
  return {
    id: String(job.id),
    state: action,
    labels: [...new Set(job.labels.map((l: string) => l.toLowerCase()))],
    ...(Number.isFinite(created) ? { createdAt: created } : {}),
  };
}

/**
 * The listener of GitHub's webhooks (POST, any path): a delivery is taken only when signed with the
 * secret and never seen before; its job is written to the state store with a conditional write, so
 * replicas and restarts lose nothing. GitHub sees 2xx once the job is stored.
 */
export function webhookHandler(deps: WebhookDeps): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    void handle(deps, req).then(
      ([status, message]) => {
        res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', connection: 'close' }).end(`${message}\n`);
      },
      (e: unknown) => {
        deps.log.error({ error: (e as Error).message }, 'webhook not stored');
        res.writeHead(503, { 'content-type': 'text/plain; charset=utf-8', connection: 'close' }).end('not stored; send it again\n');
      },
    );
  };
}

async function handle(deps: WebhookDeps, req: IncomingMessage): Promise<[number, string]> {
  if (req.method !== 'POST') return [405, 'POST only'];
  const body = await readBody(req);
  if (body === undefined) return [413, `larger than ${MAX_WEBHOOK_BYTES} bytes`];
  const skip = (status: number, problem: string): [number, string] => {
    deps.log.warn({ delivery: header(req, 'x-github-delivery')?.slice(0, 100), problem }, `webhook refused: ${problem}`);
    return [status, problem];
  };
  if (!signatureValid(deps.secret, body, header(req, 'x-hub-signature-256'))) return skip(401, 'signature missing or wrong');
  const delivery = header(req, 'x-github-delivery');
  if (delivery === undefined || !DELIVERY_ID.test(delivery)) return skip(400, 'no valid X-GitHub-Delivery id');
  const event = header(req, 'x-github-event');
  let job: WorkflowJobEvent | undefined;
  if (event === 'workflow_job') {
    const parsed = parseWorkflowJob(body);
    if (typeof parsed === 'string') return skip(400, `workflow_job: ${parsed}`);
    job = parsed;
  } else if (event !== 'ping') return [202, `event ${String(event).slice(0, 40)} ignored`];
  const stored = await store(deps, delivery, job);
  if (stored === 'replay') return skip(409, `delivery ${delivery} seen before`);
  if (job) deps.log.info({ delivery, job: job.id, state: job.state, labels: job.labels }, 'workflow job');
  return [200, 'stored'];
}

/** Applies the delivery with conditional writes, re-reading on a lost race (another replica wrote). */
async function store(deps: WebhookDeps, delivery: string, job: WorkflowJobEvent | undefined): Promise<'stored' | 'replay'> {
  for (let attempt = 1; ; attempt++) {
    const kept = await deps.state.read<GithubJobsDoc>(GITHUB_JOBS_DOC);
    const next = applyDelivery(kept?.doc ?? EMPTY_GITHUB_JOBS, delivery, job, deps.now());
    if (next === 'replay') return 'replay';
    try {
      await deps.state.write(GITHUB_JOBS_DOC, next, kept?.etag);
      return 'stored';
    } catch (e) {
      if (!(e instanceof CloudError && e.errorClass === 'conflict') || attempt >= WRITE_ATTEMPTS) throw e;
    }
  }
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

async function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  if (Number(req.headers['content-length'] ?? 0) > MAX_WEBHOOK_BYTES) {
    req.resume();
    return undefined;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_WEBHOOK_BYTES) {
      req.destroy();
      return undefined;
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** Starts the listener; resolves once it listens (rejects when the port is taken). */
export async function startWebhookServer(deps: WebhookDeps, port: number, host: string): Promise<Server> {
  const server = createServer(webhookHandler(deps));
  // A slow sender holds a socket at most this long.
  server.requestTimeout = 10_000;
  server.headersTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server;
}
