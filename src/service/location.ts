import { InputError } from '../domain/errors.js';

export type Location =
  | { readonly kind: 's3'; readonly bucket: string; readonly key: string }
  | { readonly kind: 'https'; readonly url: string }
  | { readonly kind: 'file'; readonly path: string };

/** Where an input or the state lives: `s3://bucket/key`, `https://...` (or http), or a file path. */
export function parseLocation(value: string, what: string): Location {
  if (value.startsWith('s3://')) {
    const rest = value.slice('s3://'.length);
    const slash = rest.indexOf('/');
    const bucket = slash < 0 ? rest : rest.slice(0, slash);
    const key = slash < 0 ? '' : rest.slice(slash + 1);
    if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) throw new InputError(`${what}: ${JSON.stringify(value)} has no valid bucket name`);
    return { kind: 's3', bucket, key };
  }
  if (/^https?:\/\//.test(value)) return { kind: 'https', url: value };
  if (value === '') throw new InputError(`${what}: not set`);
  return { kind: 'file', path: value };
}

export function describeLocation(l: Location): string {
  return l.kind === 's3' ? `s3://${l.bucket}/${l.key}` : l.kind === 'https' ? l.url : l.path;
}
