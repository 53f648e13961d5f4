import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { getInstanceMetadataEndpoint } from '@smithy/credential-provider-imds';
import { InputError } from '../domain/errors.js';

/** Instance metadata could not be read: the worker cannot tell who it is. */
export class ImdsUnavailable extends Error {
  override readonly name = 'ImdsUnavailable';
}

export interface ImdsOptions {
  /** the metadata service's origin, e.g. http://169.254.169.254 */
  readonly endpoint: string;
  /** per request [1000 ms, as the SDK's own IMDS client] */
  readonly timeoutMs?: number;
  /** tries per request, counting the first [3] */
  readonly attempts?: number;
  /** aborts the request in flight and every later one (the caller's deadline) */
  readonly signal?: AbortSignal;
}

const TOKEN_TTL_SECONDS = '300';

/**
 * Where instance metadata is served, resolved by the AWS SDK itself: AWS_EC2_METADATA_SERVICE_ENDPOINT,
 * then `ec2_metadata_service_endpoint` in the shared config file, then the endpoint mode (IPv4
 * http://169.254.169.254 by default, or IPv6). Like the SDK, only the origin is used. Undefined when
 * AWS_EC2_METADATA_DISABLED is set to anything but "false", as the SDK reads it. (`env` serves that
 * switch; the SDK reads the endpoint variables from process.env itself.)
 */
export async function metadataEndpoint(env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  const disabled = env.AWS_EC2_METADATA_DISABLED;
  if (disabled && disabled !== 'false') return undefined;
  let endpoint: Awaited<ReturnType<typeof getInstanceMetadataEndpoint>>;
  try {
    endpoint = await getInstanceMetadataEndpoint();
  } catch (e) {
    throw new InputError(`instance metadata endpoint: ${(e as Error).message.split('\n')[0]} (AWS_EC2_METADATA_SERVICE_ENDPOINT or _MODE)`);
  }
  const port = endpoint.port ? `:${endpoint.port}` : '';
  return `${endpoint.protocol}//${endpoint.hostname}${port}`;
}

/**
 * A small IMDSv2 client: a session token first (PUT /latest/api/token), then GETs carrying it.
 * Short timeouts and a few quick retries, so that a worker's boot never hangs on it; an expired or
 * refused token is fetched again once. A path that does not exist (404) reads as undefined.
 */
export class Imds {
  /** one session token, shared by concurrent reads */
  private token: Promise<string> | undefined;
  private readonly timeoutMs: number;
  private readonly attempts: number;

  constructor(private readonly options: ImdsOptions) {
    this.timeoutMs = options.timeoutMs ?? 1000;
    this.attempts = Math.max(1, options.attempts ?? 3);
  }

  /** A metadata path under /latest/meta-data/ (e.g. "instance-id"). */
  metaData(path: string): Promise<string | undefined> {
    return this.get(`/latest/meta-data/${path}`);
  }

  /** The instance's user data, undefined when it has none. */
  userData(): Promise<string | undefined> {
    return this.get('/latest/user-data');
  }

  private async get(path: string): Promise<string | undefined> {
    for (let renewed = false; ; renewed = true) {
      const token = this.sessionToken();
      const response = await this.request('GET', path, { 'X-aws-ec2-metadata-token': await token });
      if (response.status === 404) return undefined;
      if (response.status === 401 && !renewed) {
        // The token expired or was refused: one new token, shared by every read that saw the old one fail.
        if (this.token === token) this.token = undefined;
        continue;
      }
      if (response.status !== 200) throw new ImdsUnavailable(`GET ${path}: HTTP ${response.status}`);
      return response.body;
    }
  }

  private sessionToken(): Promise<string> {
    if (this.token) return this.token;
    const token = this.request('PUT', '/latest/api/token', { 'X-aws-ec2-metadata-token-ttl-seconds': TOKEN_TTL_SECONDS }).then(
      (response) => {
        if (response.status !== 200 || response.body === '') throw new ImdsUnavailable(`no IMDSv2 token (HTTP ${response.status})`);
        return response.body;
      },
    );
    this.token = token;
    // A failed token request is not kept: the next read asks again.
    token.catch(() => {
      if (this.token === token) this.token = undefined;
    });
    return token;
  }

  /** One request, retried on network errors, timeouts, throttling and 5xx. */
  private async request(method: 'GET' | 'PUT', path: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
    let problem = '';
    const { signal } = this.options;
    for (let attempt = 1; attempt <= this.attempts; attempt++) {
      if (attempt > 1) await pause(100 * 2 ** (attempt - 2), signal);
      if (signal?.aborted) throw new ImdsUnavailable(`${method} ${path}: ${abortMessage(signal)}`);
      try {
        const response = await send(new URL(path, this.options.endpoint), method, headers, this.timeoutMs, signal);
        if (response.status !== 429 && response.status < 500) return response;
        problem = `HTTP ${response.status}`;
      } catch (e) {
        problem = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
      }
    }
    throw new ImdsUnavailable(`${method} ${path}: ${problem} (${this.attempts} tries)`);
  }
}

/**
 * One HTTP exchange with node:http, as the SDK's own IMDS client does: no proxy ever stands between
 * an instance and its metadata, whatever the environment says, and the timeout covers the whole exchange.
 */
function send(
  url: URL,
  method: string,
  headers: Record<string, string>,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = (url.protocol === 'https:' ? httpsRequest : httpRequest)(url, { method, headers, agent: false });
    const timer = setTimeout(() => request.destroy(Object.assign(new Error('timed out'), { code: 'timed out' })), timeoutMs);
    const abort = () => request.destroy(Object.assign(new Error(abortMessage(signal)), { code: abortMessage(signal) }));
    signal?.addEventListener('abort', abort, { once: true });
    const fail = (e: Error) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', abort);
      reject(e);
    };
    request.on('error', fail);
    request.on('response', (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('error', fail);
      response.on('end', () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', abort);
        resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') });
      });
    });
    request.end();
  });
}

function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
  });
}

function abortMessage(signal: AbortSignal | undefined): string {
  const reason: unknown = signal?.reason;
  return reason instanceof Error ? reason.message : 'aborted';
}
