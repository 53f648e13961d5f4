import { anySignal, bounds } from '../cloud/bounds.js';
import { processShutdown } from '../cloud/shutdown.js';
import { cappedText, refuseOverCap } from '../cloud/size-cap.js';
import { redactLocation } from './location.js';

export interface FetchedDocument {
  readonly text: string;
  readonly etag?: string;
}

export interface FetchOptions {
  /** the body is refused beyond this many bytes */
  readonly maxBytes: number;
  /** accept a plain http:// URL (and same-origin redirects on it) */
  readonly allowHttp: boolean;
  /** sent as If-None-Match: a 304 answers 'not-modified' */
  readonly etag?: string;
}

/** Redirects followed, each to the URL's own origin only. */
const MAX_REDIRECTS = 3;

/**
 * GETs one document over HTTP(S). Refused: plain http:// unless allowed, a redirect to another
 * origin (which could be http://, a loopback service or a metadata endpoint), a Content-Length over
 * `maxBytes`, and a body that grows past it (the read stops there, so memory stays bounded).
 */
export async function fetchDocument(url: string, options: FetchOptions): Promise<FetchedDocument | 'not-modified'> {
  let current = new URL(url);
  // fetch refuses user:password in a URL: it is sent as Basic authorization instead (to this origin only).
  const authorization = current.username || current.password ? basic(current) : undefined;
  current.username = '';
  current.password = '';
  for (let redirects = 0; ; redirects++) {
    if (current.protocol === 'http:' && !options.allowHttp)
      throw new Error(`${redactLocation(current.href)}: http:// is refused (set allowHttp, env FLEET_ALLOW_HTTP=true, to accept it)`);
    if (current.protocol !== 'https:' && current.protocol !== 'http:')
      throw new Error(`${redactLocation(current.href)}: only https:// is read`);
    let response: Response;
    try {
      response = await fetch(current, {
        headers: { ...(options.etag ? { 'If-None-Match': options.etag } : {}), ...(authorization ? { Authorization: authorization } : {}) },
        redirect: 'manual',
        signal: anySignal([processShutdown.signal, AbortSignal.timeout(bounds().https.totalMs)]),
      });
    } catch (e) {
      throw withoutSecrets(e, current);
    }
    if (response.status === 304) return 'not-modified';
    if (response.status >= 300 && response.status < 400) {
      await response.body?.cancel();
      current = sameOriginTarget(current, response, redirects);
      continue;
    }
    if (!response.ok) {
      await response.body?.cancel();
      throw new Error(`HTTP ${response.status}`);
    }
    const etag = response.headers.get('etag');
    return { text: await responseText(response, options.maxBytes), ...(etag ? { etag } : {}) };
  }
}

function basic(url: URL): string {
  return `Basic ${Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString('base64')}`;
}

/** The error with the URL shown redacted wherever its message quotes it (its class and cause unchanged). */
function withoutSecrets(e: unknown, url: URL): unknown {
  if (e instanceof Error && e.message.includes(url.href)) e.message = e.message.split(url.href).join(redactLocation(url.href));
  return e;
}

function sameOriginTarget(from: URL, response: Response, redirects: number): URL {
  const location = response.headers.get('location');
  if (location === null) throw new Error(`HTTP ${response.status} with no Location`);
  let target: URL;
  try {
    target = new URL(location, from);
  } catch {
    throw new Error(`HTTP ${response.status} to an invalid Location`);
  }
  if (target.origin !== from.origin)
    throw new Error(`HTTP ${response.status} redirect to another origin (${target.origin}) refused: give the final URL`);
  if (redirects >= MAX_REDIRECTS) throw new Error(`more than ${MAX_REDIRECTS} redirects`);
  return target;
}

async function responseText(response: Response, maxBytes: number): Promise<string> {
  try {
    refuseOverCap(Number(response.headers.get('content-length') ?? Number.NaN), maxBytes);
  } catch (e) {
    await response.body?.cancel();
    throw e;
  }
  return response.body ? cappedText(response.body as AsyncIterable<Uint8Array>, maxBytes) : '';
}
