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

/**
 * What the network does to a call, as a real one can:
 * - `lose-request`: it never reaches the upstream; the client's connection is reset.
 * - `lose-response`: it reaches the upstream, which acts on it; the connection is then dropped
 *   instead of the answer (the client sees a reset and cannot tell whether it was carried out).
 * - `hang`: it is held `ms` milliseconds (or until `release()`), before it reaches the upstream
 *   (`phase: 'request'`, the default) or after the upstream acted (`phase: 'response'`). A client
 *   that gives up meanwhile (a timeout, an abort) closes its connection: a request held before the
 *   upstream is then never forwarded; a held answer is thrown away.
 */
export type NetworkFault =
  | { readonly kind: 'lose-request' }
  | { readonly kind: 'lose-response' }
  | { readonly kind: 'hang'; readonly ms: number; readonly phase?: 'request' | 'response' };

export interface NetworkRule {
  /** as in FaultRule; undefined: every call */
  readonly action?: string;
  readonly fault: NetworkFault;
  /** How many matching calls it applies to; default Infinity. */
  readonly times?: number;
  /** Extra condition on the call (its params, its caller's `agent`, ...). */
  readonly when?: (call: ProxiedCall) => boolean;
}

/** How the proxy dealt with a call. */
export type CallOutcome =
  /** not answered yet */
  | 'in-flight'
  /** passed to the upstream, its answer passed back */
  | 'forwarded'
  /** answered with an injected AWS error (FaultRule) */
  | 'error'
  | 'lost-request'
  | 'lost-response'
  /** held, and its client gave up before it got an answer (if it was still held before the upstream, it never reached it) */
  | 'dropped'
  /** RunInstances with a ClientToken already used with the same parameters: the first answer again */
  | 'replayed'
  /** RunInstances with a ClientToken already used with other parameters: IdempotentParameterMismatch */
  | 'mismatch';

export interface ProxiedCall {
  readonly service: Service;
  readonly action: string;
  readonly params: URLSearchParams;
  /** an error or a network fault was injected */
  readonly faulted: boolean;
  /** HTTP status sent to the client; 0 while the upstream has not answered yet (or never, for a lost call). */
  readonly status: number;
  readonly method: string;
  /** URL path without the query string. */
  readonly path: string;
  /** the caller's app id (`AWS_SDK_UA_APP_ID`, sent as `app/<id>` in its User-Agent), to tell processes apart */
  readonly agent?: string;
  readonly outcome: CallOutcome;
  /** the call reached the upstream (a replay or a mismatch answered by the proxy did not) */
  readonly forwarded: boolean;
  /** this call's place among every call's arrival and forwarding (one counter for both, so they compare) */
  readonly arrivedSeq: number;
  readonly forwardedSeq?: number;
}

export interface FaultProxy {
  /** http://127.0.0.1:PORT */
  readonly endpoint: string;
  addRule(rule: FaultRule): void;
  /** Lose or hold calls on the way (see NetworkFault). */
  addNetworkRule(rule: NetworkRule): void;
  clearRules(): void;
  /** End every hang now: held calls go on as if their time were up. */
  release(): void;
  /** Every request seen, in arrival order. */
  readonly calls: ReadonlyArray<ProxiedCall>;
  clearCalls(): void;
  /** Forget the client tokens seen (after the upstream itself was reset). */
  forgetTokens(): void;
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

interface ActiveNetworkRule {
  readonly rule: NetworkRule;
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
  agent?: string;
  outcome: CallOutcome;
  forwarded: boolean;
  arrivedSeq: number;
  forwardedSeq?: number;
}

/** An upstream answer, kept whole (EC2 calls are small) so it can be held, dropped or replayed. */
interface Answer {
  readonly status: number;
  readonly statusMessage?: string;
  readonly headers: OutgoingHttpHeaders;
  readonly body: Buffer;
}

/** What EC2 remembers of a RunInstances client token: the parameters it came with, and its answer. */
interface TokenEntry {
  readonly fingerprint: string;
  /** settles once the first call with this token has its answer (or failed) */
  readonly settled: Promise<void>;
  answer?: Answer;
}

/**
 * Start a loopback proxy in front of `upstream` (a moto endpoint) that can inject AWS errors, lose
 * or hold calls (NetworkRule), and honours RunInstances' ClientToken as EC2 does, which moto does
 * not: the same token with the same parameters answers the first call's answer again (no second
 * set of instances); with any other parameter, IdempotentParameterMismatch (HTTP 400). A token
 * whose first call failed (an error, or a request lost on the way) was never used.
 */
export async function startFaultProxy(upstream: string): Promise<FaultProxy> {
  const target = new URL(upstream);
  const agent = new Agent({ keepAlive: true });
  const rules: ActiveRule[] = [];
  const networkRules: ActiveNetworkRule[] = [];
  const calls: CallRecord[] = [];
  const tokens = new Map<string, TokenEntry>();
  const holds = new Set<() => void>();
  let seq = 0;

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
    const caller = appId(req.headers);
    const call: CallRecord = {
      service,
      action,
      params,
      faulted: false,
      status: 0,
      method,
      path: url.pathname,
      ...(caller ? { agent: caller } : {}),
      outcome: 'in-flight',
      forwarded: false,
      arrivedSeq: seq++,
    };
    calls.push(call);
    // Did the client go away (a timeout, an abort) before it got its answer?
    let clientGone = false;
    res.once('close', () => {
      if (!res.writableFinished) clientGone = true;
    });

    const network = takeNetworkFault(call);
    if (network?.kind === 'lose-request') {
      call.faulted = true;
      call.outcome = 'lost-request';
      if (body === undefined) req.resume();
      req.socket.destroy();
      return;
    }

    const fault = takeFault(action, params);
    if (fault) {
      call.faulted = true;
      call.outcome = 'error';
      call.status = fault.status ?? defaultStatus(fault.code);
      if (body === undefined) req.resume(); // discard an unread body
      sendError(res, service, fault, call.status);
      return;
    }

    if (network?.kind === 'hang' && (network.phase ?? 'request') === 'request') {
      call.faulted = true;
      await hold(network.ms, () => clientGone);
      if (clientGone) {
        call.outcome = 'dropped';
        if (body === undefined) req.resume();
        return;
      }
    }

    // Streamed through untouched (S3 bodies and the like) unless a fault needs the answer in hand.
    const streamed = body === undefined && network === undefined;
    const answer = await answerOf(req, streamed ? res : undefined, body, call);
    if (answer === undefined) return;
    if (network?.kind === 'lose-response') {
      call.faulted = true;
      call.outcome = 'lost-response';
      res.socket?.destroy();
      return;
    }
    if (network?.kind === 'hang' && network.phase === 'response') {
      call.faulted = true;
      await hold(network.ms, () => clientGone);
    }
    if (clientGone) {
      if (call.outcome === 'in-flight') call.outcome = 'dropped';
      return;
    }
    call.status = answer.status;
    if (call.outcome === 'in-flight') call.outcome = 'forwarded';
    res.writeHead(answer.status, answer.statusMessage, answer.headers);
    res.end(answer.body);
  }

  /**
   * The upstream's answer to a call, kept whole, or undefined once it was streamed to `stream`.
   * RunInstances goes through its client token first.
   */
  async function answerOf(
    req: IncomingMessage,
    stream: ServerResponse | undefined,
    body: Buffer | undefined,
    call: CallRecord,
  ): Promise<Answer | undefined> {
    const token = call.service === 'ec2' && call.action === 'RunInstances' ? call.params.get('ClientToken') : null;
    if (token) return answerWithToken(token, req, body, call);
    if (stream === undefined) return forwardWhole(req, body, call);
    try {
      markForwarded(call);
      await forward(req, stream, body, call);
      call.outcome = 'forwarded';
    } catch (err) {
      if (call.status === 0) call.status = 502; // upstream unreachable or aborted
      throw err;
    }
    return undefined;
  }

  async function answerWithToken(token: string, req: IncomingMessage, body: Buffer | undefined, call: CallRecord): Promise<Answer> {
    const fingerprint = fingerprintOf(call.params);
    for (;;) {
      const earlier = tokens.get(token);
      if (!earlier) break;
      await earlier.settled;
      if (tokens.get(token) !== earlier) continue; // the first call failed: the token is free again
      if (earlier.fingerprint !== fingerprint) {
        call.outcome = 'mismatch';
        return errorAnswer(
          'ec2',
          {
            code: 'IdempotentParameterMismatch',
            message:
              'The client token you have provided is associated with a resource that is already deleted, or the parameters of this request do not match the original request.',
          },
          400,
        );
      }
      call.outcome = 'replayed';
      return earlier.answer as Answer;
    }
    let settle = () => undefined as void;
    const entry: TokenEntry = { fingerprint, settled: new Promise<void>((resolve) => (settle = resolve)) };
    tokens.set(token, entry);
    try {
      const answer = await forwardWhole(req, body, call);
      if (answer.status >= 200 && answer.status < 300) entry.answer = answer;
      else tokens.delete(token);
      return answer;
    } catch (err) {
      tokens.delete(token);
      throw err;
    } finally {
      settle();
    }
  }

  /** Hold a call for `ms`, or until release(), or until its client has gone. */
  function hold(ms: number, gone: () => boolean): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        clearInterval(poll);
        holds.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      const poll = setInterval(() => {
        if (gone()) done();
      }, 20);
      holds.add(done);
    });
  }

  function markForwarded(call: CallRecord): void {
    call.forwarded = true;
    call.forwardedSeq = seq++;
  }

  /** The client's request sent on to the target (its body as read, or streamed), and the target's answer. */
  async function sendUpstream(req: IncomingMessage, body: Buffer | undefined, call: CallRecord): Promise<IncomingMessage> {
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
    const response = new Promise<IncomingMessage>((resolve, reject) => {
      upstreamReq.once('response', resolve);
      upstreamReq.once('error', reject);
    });
    const sent = body === undefined ? pipeline(req, upstreamReq) : new Promise<void>((resolve) => upstreamReq.end(body, resolve));
    const [answer] = await Promise.all([response, sent]);
    return answer;
  }

  async function forwardWhole(req: IncomingMessage, body: Buffer | undefined, call: CallRecord): Promise<Answer> {
    markForwarded(call);
    const upstreamRes = await sendUpstream(req, body, call);
    const answer = await readAll(upstreamRes);
    const headers = forwardHeaders(upstreamRes.headers);
    headers['content-length'] = answer.length;
    return {
      status: upstreamRes.statusCode ?? 502,
      ...(upstreamRes.statusMessage ? { statusMessage: upstreamRes.statusMessage } : {}),
      headers,
      body: answer,
    };
  }

  async function forward(req: IncomingMessage, res: ServerResponse, body: Buffer | undefined, call: CallRecord): Promise<void> {
    const response = await sendUpstream(req, body, call);
    call.status = response.statusCode ?? 502;
    res.writeHead(call.status, response.statusMessage, forwardHeaders(response.headers));
    await pipeline(response, res);
  }

  function takeNetworkFault(call: CallRecord): NetworkFault | undefined {
    const active = networkRules.find(
      (r) => r.remaining > 0 && (r.rule.action === undefined || r.rule.action === call.action) && (r.rule.when?.(call) ?? true),
    );
    if (!active) return undefined;
    active.remaining -= 1;
    return active.rule.fault;
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
    addNetworkRule(rule) {
      networkRules.push({ rule, remaining: rule.times ?? Infinity });
    },
    clearRules() {
      rules.length = 0;
      networkRules.length = 0;
    },
    release() {
      for (const done of [...holds]) done();
    },
    calls,
    clearCalls() {
      calls.length = 0;
    },
    forgetTokens() {
      tokens.clear();
    },
    async close() {
      for (const done of [...holds]) done();
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
  const credential = /Credential=([^,\s]+)/.exec(headers.authorization ?? '')?.[1] ?? params.get('X-Amz-Credential') ?? undefined;
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

function sendError(res: ServerResponse, service: Service, rule: Pick<FaultRule, 'code' | 'message'>, status: number): void {
  const answer = errorAnswer(service, rule, status);
  res.writeHead(answer.status, answer.headers);
  res.end(answer.body);
}

/** An AWS error answer, in EC2's or S3's XML error document. */
function errorAnswer(service: Service, rule: Pick<FaultRule, 'code' | 'message'>, status: number): Answer {
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
  return {
    status,
    headers: { 'content-type': 'text/xml;charset=UTF-8', 'content-length': payload.length, 'x-amzn-requestid': requestId },
    body: payload,
  };
}

/** Every parameter of a call but its client token, in a stable order: what EC2 compares a reused token on. */
function fingerprintOf(params: URLSearchParams): string {
  return JSON.stringify(
    [...params].filter(([key]) => key !== 'ClientToken').sort(([a, x], [b, y]) => a.localeCompare(b) || x.localeCompare(y)),
  );
}

/** The app id of an SDK caller (`AWS_SDK_UA_APP_ID`), from its User-Agent headers. */
function appId(headers: IncomingHttpHeaders): string | undefined {
  const agents = [headers['user-agent'], headers['x-amz-user-agent']].flat().filter((v): v is string => typeof v === 'string');
  for (const a of agents) {
    const match = /(?:^|\s)app\/([^\s]+)/.exec(a);
    if (match) return match[1];
  }
  return undefined;
}

function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
}

async function readAll(stream: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
