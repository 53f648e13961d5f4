import { randomUUID } from 'node:crypto';
import {
  Agent,
  createServer,
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { pipeline } from 'node:stream/promises';

export interface FaultRule {
  /**
   * EC2 Query action (Action=... in the form body), e.g. 'RunInstances';
   * for S3 and other REST calls `${method} ${path}`, e.g. 'GET /bucket/key'.
   */
  readonly action: string;
  /** AWS error code, e.g. 'InsufficientInstanceCapacity', 'RequestLimitExceeded', 'InternalError'. */
  readonly code: string;
  readonly message?: string;
  /** HTTP status of the injected error; defaults to what real EC2 sends for `code` (see defaultStatus). */
  readonly status?: number;
  /** How many matching requests to fail before passing through; default Infinity. */
  readonly times?: number;
  /** Extra condition on the decoded request params (form body plus query string). */
  readonly when?: (params: URLSearchParams) => boolean;
}

export type Service = 'ec2' | 's3' | 'other';

export interface ProxiedCall {
  readonly service: Service;
  readonly action: string;
  readonly params: URLSearchParams;
  readonly faulted: boolean;
  /** HTTP status sent to the client; 0 while the upstream has not answered yet. */
  readonly status: number;
  readonly method: string;
  /** URL path without the query string. */
  readonly path: string;
}

export interface FaultProxy {
  /** http://127.0.0.1:PORT */
  readonly endpoint: string;
  addRule(rule: FaultRule): void;
  clearRules(): void;
  /** Every request seen, in arrival order. */
  readonly calls: ReadonlyArray<ProxiedCall>;
  clearCalls(): void;
  close(): Promise<void>;
}

/**
 * HTTP statuses real EC2 sends with these codes. EC2 sends 400-series statuses
 * for client errors and 500-series for server errors (EC2 API reference,
 * "Error codes"); RequestLimitExceeded arrives as 503 and
 * InsufficientInstanceCapacity as 500 in captured responses. The status matters:
 * the SDK retries 500/502/503/504 as transient whatever the code.
 */
const SERVER_ERROR_STATUS: Readonly<Record<string, number>> = {
  RequestLimitExceeded: 503,
  Unavailable: 503,
  ServiceUnavailable: 503,
  InternalError: 500,
  InternalFailure: 500,
  InsufficientInstanceCapacity: 500,
  InsufficientCapacity: 500,
  InsufficientAddressCapacity: 500,
  InsufficientHostCapacity: 500,
  InsufficientReservedInstanceCapacity: 500,
};
const CLIENT_ERROR_STATUS = 400;

export function defaultStatus(code: string): number {
  return SERVER_ERROR_STATUS[code] ?? CLIENT_ERROR_STATUS;
}

/** Hop-by-hop headers (RFC 9110 §7.6.1) plus Expect, which this proxy already answered. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'expect',
]);

interface ActiveRule {
  readonly rule: FaultRule;
  remaining: number;
}

interface CallRecord {
  service: Service;
  action: string;
  params: URLSearchParams;
  faulted: boolean;
  status: number;
  method: string;
  path: string;
}

/** Start a loopback proxy in front of `upstream` (a moto endpoint) that can inject AWS errors. */
export async function startFaultProxy(upstream: string): Promise<FaultProxy> {
  const target = new URL(upstream);
  const agent = new Agent({ keepAlive: true });
  const rules: ActiveRule[] = [];
  const calls: CallRecord[] = [];

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) {
        res.writeHead(502, { 'content-type': 'text/plain' });
        res.end(`fault proxy: ${err instanceof Error ? err.message : String(err)}`);
      } else {
        res.destroy();
      }
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? 'GET';
    const url = new URL(req.url ?? '/', 'http://proxy.invalid');
    const params = new URLSearchParams(url.search);

    // Only form-encoded (Query protocol) bodies are read up front, to find Action;
    // everything else, e.g. S3 object data, is streamed through untouched.
    let body: Buffer | undefined;
    if (isFormEncoded(req.headers)) {
      body = await readAll(req);
      for (const [key, value] of new URLSearchParams(body.toString('utf8'))) params.append(key, value);
    }

    const service = serviceOf(req.headers, params);
    const action = params.get('Action') ?? `${method} ${url.pathname}`;
    const call: CallRecord = { service, action, params, faulted: false, status: 0, method, path: url.pathname };
    calls.push(call);

    const fault = takeFault(action, params);
    if (fault) {
      call.faulted = true;
      call.status = fault.status ?? defaultStatus(fault.code);
      if (body === undefined) req.resume(); // discard an unread body
      sendError(res, service, fault, call.status);
      return;
    }

    try {
      await forward(req, res, body, call);
    } catch (err) {
      if (call.status === 0) call.status = 502; // upstream unreachable or aborted
      throw err;
    }
  }

  async function forward(
    req: IncomingMessage,
    res: ServerResponse,
    body: Buffer | undefined,
    call: CallRecord,
  ): Promise<void> {
    const upstreamReq = httpRequest({
      protocol: target.protocol,
      hostname: target.hostname,
      port: target.port,
      method: call.method,
      path: req.url,
      // Host stays as the client sent it: it is covered by the SigV4 signature.
      headers: forwardHeaders(req.headers, body),
      agent,
    });
    const upstreamRes = new Promise<IncomingMessage>((resolve, reject) => {
      upstreamReq.once('response', resolve);
      upstreamReq.once('error', reject);
    });
    const sent =
      body === undefined ? pipeline(req, upstreamReq) : new Promise<void>((resolve) => upstreamReq.end(body, resolve));
    const [response] = await Promise.all([upstreamRes, sent]);

    call.status = response.statusCode ?? 502;
    res.writeHead(call.status, response.statusMessage, forwardHeaders(response.headers));
    await pipeline(response, res);
  }

  function takeFault(action: string, params: URLSearchParams): FaultRule | undefined {
    const active = rules.find((r) => r.remaining > 0 && r.rule.action === action && (r.rule.when?.(params) ?? true));
    if (!active) return undefined;
    active.remaining -= 1;
    return active.rule;
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    endpoint: `http://127.0.0.1:${port}`,
    addRule(rule) {
      rules.push({ rule, remaining: rule.times ?? Infinity });
    },
    clearRules() {
      rules.length = 0;
    },
    calls,
    clearCalls() {
      calls.length = 0;
    },
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      agent.destroy();
      await closed;
    },
  };
}

function isFormEncoded(headers: IncomingHttpHeaders): boolean {
  return (headers['content-type'] ?? '').toLowerCase().startsWith('application/x-www-form-urlencoded');
}

/** The service named in the SigV4 credential scope (header or presigned query), else a guess from Action. */
function serviceOf(headers: IncomingHttpHeaders, params: URLSearchParams): Service {
  const credential =
    /Credential=([^,\s]+)/.exec(headers.authorization ?? '')?.[1] ?? params.get('X-Amz-Credential') ?? undefined;
  const scopeService = credential?.split('/')[3];
  if (scopeService === 'ec2' || scopeService === 's3') return scopeService;
  if (scopeService === undefined && params.has('Action')) return 'ec2';
  return 'other';
}

function forwardHeaders(headers: IncomingHttpHeaders, body?: Buffer): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && !HOP_BY_HOP.has(name)) out[name] = value;
  }
  if (body !== undefined) out['content-length'] = body.length;
  return out;
}

function sendError(res: ServerResponse, service: Service, rule: FaultRule, status: number): void {
  const requestId = randomUUID();
  const message = escapeXml(rule.message ?? `Injected ${rule.code} by the fault proxy`);
  const code = escapeXml(rule.code);
  // S3 (REST-XML) and EC2 (ec2Query) wrap errors differently; each SDK parser expects its own shape.
  const error = `<Code>${code}</Code><Message>${message}</Message>`;
  const document =
    service === 's3'
      ? `<Error>${error}<RequestId>${requestId}</RequestId></Error>`
      : `<Response><Errors><Error>${error}</Error></Errors><RequestID>${requestId}</RequestID></Response>`;
  const payload = Buffer.from(`<?xml version="1.0" encoding="UTF-8"?>\n${document}`, 'utf8');
  res.writeHead(status, {
    'content-type': 'text/xml;charset=UTF-8',
    'content-length': payload.length,
    'x-amzn-requestid': requestId,
  });
  res.end(payload);
}

function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
}

async function readAll(stream: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
