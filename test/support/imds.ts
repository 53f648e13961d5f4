// A simulated EC2 instance metadata service (IMDSv2 only) on loopback, strict where the real one is:
// a GET without a valid session token is 401, a token PUT without its TTL header (1-21600 s) is 400,
// instance tags appear under tags/instance only when the instance exposes them, user data is 404
// when there is none.

import { randomBytes } from 'node:crypto';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface InstanceMetadata {
  readonly instanceId: string;
  readonly ami: string;
  readonly launchIndex?: number;
  /** undefined: placement/region is 404 (older metadata), only the zone answers */
  readonly region?: string;
  readonly az: string;
  /** undefined: the instance does not expose its tags in metadata (tags/instance is 404) */
  readonly tags?: Readonly<Record<string, string>>;
  readonly userData?: string;
}

export interface ImdsRequest {
  readonly method: string;
  readonly path: string;
  readonly status: number;
}

export interface FakeImds {
  readonly endpoint: string;
  readonly requests: ImdsRequest[];
  /** the TTLs asked for on token PUTs */
  readonly ttls: string[];
  /** answer the next `n` requests with 500 */
  failNext(n: number): void;
  /** stop answering at all (accept connections, never respond) */
  hang(): void;
  /** every token issued so far stops being valid, as when its TTL runs out */
  expireTokens(): void;
  /** set (or, with undefined, remove) an instance tag, as CreateTags/DeleteTags change what metadata shows */
  setTag(key: string, value: string | undefined): void;
  /** EC2's spot interruption notice (spot/instance-action), e.g. {"action":"terminate","time":"..."} */
  setSpotAction(notice: string | undefined): void;
  close(): Promise<void>;
}

export async function startImds(metadata: InstanceMetadata): Promise<FakeImds> {
  const tokens = new Set<string>();
  const requests: ImdsRequest[] = [];
  const ttls: string[] = [];
  let failures = 0;
  let hanging = false;
  const liveTags: Record<string, string> | undefined = metadata.tags === undefined ? undefined : { ...metadata.tags };
  let spotAction: string | undefined;

  const answer = (req: IncomingMessage, res: ServerResponse, status: number, body = '') => {
    requests.push({ method: req.method ?? '', path: req.url ?? '', status });
    res.writeHead(status, { 'Content-Type': 'text/plain' }).end(body);
  };

  const metaData = (path: string): string | undefined => {
    const tags = liveTags;
    switch (path) {
      case 'instance-id':
        return metadata.instanceId;
      case 'ami-id':
        return metadata.ami;
      case 'ami-launch-index':
        return String(metadata.launchIndex ?? 0);
      case 'placement/region':
        return metadata.region;
      case 'placement/availability-zone':
        return metadata.az;
      case 'spot/instance-action':
        return spotAction;
      case 'tags/instance':
        return tags === undefined ? undefined : Object.keys(tags).join('\n');
    }
    if (tags !== undefined && path.startsWith('tags/instance/')) return tags[path.slice('tags/instance/'.length)];
    return undefined;
  };

  const server: Server = createServer((req, res) => {
    if (hanging) return; // never answers
    if (failures > 0) {
      failures--;
      answer(req, res, 500, 'Internal Server Error');
      return;
    }
    const path = decodeURIComponent((req.url ?? '').split('?')[0] ?? '');
    if (path === '/latest/api/token') {
      if (req.method !== 'PUT') return answer(req, res, 405);
      const ttl = req.headers['x-aws-ec2-metadata-token-ttl-seconds'];
      ttls.push(String(ttl));
      if (typeof ttl !== 'string' || !/^\d+$/.test(ttl) || Number(ttl) < 1 || Number(ttl) > 21600) return answer(req, res, 400);
      const token = randomBytes(16).toString('base64');
      tokens.add(token);
      return answer(req, res, 200, token);
    }
    if (req.method !== 'GET') return answer(req, res, 405);
    const token = req.headers['x-aws-ec2-metadata-token'];
    if (typeof token !== 'string' || !tokens.has(token)) return answer(req, res, 401);
    if (path === '/latest/user-data')
      return metadata.userData === undefined ? answer(req, res, 404) : answer(req, res, 200, metadata.userData);
    const value = path.startsWith('/latest/meta-data/') ? metaData(path.slice('/latest/meta-data/'.length)) : undefined;
    return value === undefined ? answer(req, res, 404) : answer(req, res, 200, value);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    ttls,
    failNext: (n) => (failures = n),
    hang: () => (hanging = true),
    expireTokens: () => tokens.clear(),
    setTag: (key, value) => {
      if (liveTags === undefined) throw new Error('this instance does not expose its tags in metadata');
      if (value === undefined) delete liveTags[key];
      else liveTags[key] = value;
    },
    setSpotAction: (notice) => (spotAction = notice),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** An HTTP server that must never be called: every request is recorded (and answered 500). */
export async function startTrap(): Promise<{ endpoint: string; calls: string[]; close: () => Promise<void> }> {
  const calls: string[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      // EC2 speaks the query protocol: the action is a form field of the body.
      const action = new URLSearchParams(body).get('Action') ?? String(req.headers['x-amz-target'] ?? '');
      calls.push(`${req.method} ${req.url} ${action}`.trim());
      res.writeHead(500).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    calls,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
