import { InputError } from '../domain/errors.js';

export type Location =
  | { readonly kind: 's3'; readonly bucket: string; readonly key: string }
  | { readonly kind: 'https'; readonly url: string }
  | { readonly kind: 'file'; readonly path: string };

const SCHEME = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//;
const KNOWN_SCHEMES = new Set(['s3', 'http', 'https']);

/**
 * Why a location cannot be used, if its scheme is one fleet does not read (`ftp://`, `file://`,
 * `gs://`, ...): such a value must never be taken for a relative file path.
 */
export function unknownScheme(value: string): string | undefined {
  const scheme = SCHEME.exec(value)?.[1];
  if (scheme === undefined || KNOWN_SCHEMES.has(scheme)) return undefined;
  return `unknown scheme ${scheme}:// (use s3://bucket/key, https://..., http://... or a file path)`;
}

/** Where an input or the state lives: `s3://bucket/key`, `https://...` (or http), or a file path. */
export function parseLocation(value: string, what: string): Location {
  const unknown = unknownScheme(value);
  if (unknown) throw new InputError(`${what}: ${JSON.stringify(redactLocation(value))}: ${unknown}`);
  if (value.startsWith('s3://')) {
    const rest = value.slice('s3://'.length);
    const slash = rest.indexOf('/');
    const bucket = slash < 0 ? rest : rest.slice(0, slash);
    const key = slash < 0 ? '' : rest.slice(slash + 1);
    if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket))
      throw new InputError(`${what}: ${JSON.stringify(redactLocation(value))} has no valid bucket name`);
    return { kind: 's3', bucket, key };
  }
  if (/^https?:\/\//.test(value)) return { kind: 'https', url: value };
  if (value === '') throw new InputError(`${what}: not set`);
  return { kind: 'file', path: value };
}

export function describeLocation(l: Location): string {
  return redactLocation(l.kind === 's3' ? `s3://${l.bucket}/${l.key}` : l.kind === 'https' ? l.url : l.path);
}

/**
 * A location as it may be shown (logs, errors, `config check`, plan and status): a URL loses its
 * query string, fragment and user:password, where a presigned URL or a basic-auth URL keeps its secret.
 */
export function redactLocation(value: string): string {
  if (!SCHEME.test(value)) return value;
  const cut = value.replace(/[?#].*$/s, '');
  const scheme = SCHEME.exec(cut)?.[0] ?? '';
  const rest = cut.slice(scheme.length);
  const slash = rest.indexOf('/');
  const authority = slash < 0 ? rest : rest.slice(0, slash);
  const at = authority.lastIndexOf('@');
  return at < 0 ? cut : `${scheme}${authority.slice(at + 1)}${rest.slice(authority.length)}`;
}

/** Whether a location is a plain-HTTP URL (refused unless the configuration allows it). */
export function isPlainHttp(value: string): boolean {
  return /^http:\/\//i.test(value);
}
