import type { QueueFacts } from '../policy/estimator.js';
import type { DemandSource } from './source.js';

/** An answer larger than this is not a single series: refused unread. */
const MAX_BODY_BYTES = 256 * 1024;

export interface PrometheusQueries {
  readonly url: string;
  readonly pending: string;
  readonly running: string;
  readonly oldestPendingSeconds?: string;
}

/** A pool's pending and running jobs from instant queries (`/api/v1/query`) on a Prometheus server. */
export class PrometheusSource implements DemandSource {
  readonly pools: readonly string[];

  constructor(
    private readonly pool: string,
    private readonly queries: PrometheusQueries,
  ) {
    this.pools = [pool];
  }

  get name(): string {
    return `prometheus ${new URL(this.queries.url).origin}`;
  }

  async read(signal: AbortSignal): Promise<Record<string, QueueFacts>> {
    const { pending, running, oldestPendingSeconds } = this.queries;
    const [p, r, o] = await Promise.all([
      this.query('pending', pending, signal),
      this.query('running', running, signal),
      oldestPendingSeconds === undefined ? undefined : this.query('oldestPendingSeconds', oldestPendingSeconds, signal),
    ]);
    return { [this.pool]: { pending: Math.round(p), running: Math.round(r), ...(o !== undefined ? { oldestPendingSeconds: o } : {}) } };
  }

  private async query(what: string, query: string, signal: AbortSignal): Promise<number> {
    const url = new URL('api/v1/query', this.queries.url.endsWith('/') ? this.queries.url : `${this.queries.url}/`);
    url.searchParams.set('query', query);
    const response = await fetch(url, { signal, headers: { accept: 'application/json' } });
    const text = await cappedText(response, MAX_BODY_BYTES);
    if (!response.ok) throw new Error(`${what} query: HTTP ${response.status}${errorOf(text)}`);
    return instantValue(what, text);
  }
}

/** The one number of an instant query's answer: a scalar, or a vector of exactly one series. */
export function instantValue(what: string, text: string): number {
  let answer: { status?: unknown; data?: { resultType?: unknown; result?: unknown } };
  try {
    answer = JSON.parse(text) as typeof answer;
  } catch {
    throw new Error(`${what} query: the answer is not JSON`);
  }
  if (answer.status !== 'success') throw new Error(`${what} query: status ${JSON.stringify(answer.status)}${errorOf(text)}`);
  const { resultType, result } = answer.data ?? {};
  let sample: unknown;
  if (resultType === 'scalar') sample = result;
  else if (resultType === 'vector' && Array.isArray(result)) {
    if (result.length !== 1)
      throw new Error(`${what} query: ${result.length} series (expected exactly one; use sum(...) or "or vector(0)")`);
    sample = (result[0] as { value?: unknown }).value;
  } else throw new Error(`${what} query: a ${String(resultType)} answer (expected a vector of one series or a scalar)`);
  const raw: unknown = Array.isArray(sample) ? (sample as unknown[])[1] : undefined;
  const value = typeof raw === 'string' ? Number(raw) : Number.NaN;
  if (!Number.isFinite(value) || value < 0) throw new Error(`${what} query: value ${String(raw)} (expected a finite number ≥ 0)`);
  return value;
}

function errorOf(text: string): string {
  try {
    const error = (JSON.parse(text) as { error?: unknown }).error;
    return typeof error === 'string' ? `: ${error.slice(0, 200)}` : '';
  } catch {
    return '';
  }
}

/** The body as text, refusing one larger than `max` bytes without reading the rest. */
export async function cappedText(response: Response, max: number): Promise<string> {
  const declared = Number(response.headers.get('content-length') ?? 0);
  if (declared > max) {
    await response.body?.cancel();
    throw new Error(`answer larger than ${max} bytes`);
  }
  const reader = (response.body as ReadableStream<Uint8Array> | null)?.getReader();
  if (!reader) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = (await reader.read()) as { done: boolean; value?: Uint8Array };
    if (done || value === undefined) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel();
      throw new Error(`answer larger than ${max} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}
