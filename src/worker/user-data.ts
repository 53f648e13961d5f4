import { parse } from 'yaml';

/** The user data key older tooling wrote the pool under (`#cloud-config` YAML). */
export const LEGACY_POOL_KEY = 'moz_instance_type';

/**
 * The pool named in YAML user data, as workers launched by older tooling carry it. Anything else
 * (a shell script, MIME multipart, invalid YAML, no such key) is "no pool". The text may hold
 * secrets: it is parsed and dropped, and neither it nor a parser message quoting it is returned.
 */
export function poolFromUserData(text: string): string | undefined {
  let doc: unknown;
  try {
    // yaml's defaults keep alias expansion bounded, so hostile user data cannot exhaust memory.
    doc = parse(text);
  } catch {
    return undefined;
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return undefined;
  const pool = (doc as Record<string, unknown>)[LEGACY_POOL_KEY];
  return typeof pool === 'string' && pool.trim() !== '' ? pool.trim() : undefined;
}
