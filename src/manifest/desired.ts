import type { PoolDemand } from '../domain/demand.js';
import { InputError } from '../domain/errors.js';
import { jsonSyntaxProblem } from './json-syntax.js';

/** Bounds that keep a runaway publisher from feeding fleet absurd numbers or megabytes of names. */
export const DESIRED_LIMITS = {
  bytes: 4 * 1024 * 1024,
  pools: 1000,
  count: 1_000_000,
  oldestPendingSeconds: 366 * 86_400,
  busy: 100_000,
  nameLength: 255,
} as const;

const COUNT_FIELDS = ['desired', 'pending', 'running'] as const;
const FIELDS = new Set<string>([...COUNT_FIELDS, 'oldestPendingSeconds', 'busy']);

export interface DesiredOptions {
  /** pools some policy defines; when given, any other name refuses the document */
  readonly pools?: ReadonlySet<string>;
  /** names a document may carry though no policy defines them (config ignoredPools); dropped */
  readonly ignored?: ReadonlySet<string>;
}

/**
 * The desired document (SPEC §4): pool → count, or pool → {desired?, pending?, running?,
 * oldestPendingSeconds?, busy?}. Anything out of shape refuses the whole document with one line
 * naming the pool and the field, so the last good copy is used instead.
 */
export function parseDesiredDocument(text: string, options: DesiredOptions = {}): Record<string, PoolDemand> {
  if (text.length > DESIRED_LIMITS.bytes) throw new InputError(`desired counts: larger than ${DESIRED_LIMITS.bytes} bytes`);
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new InputError(`desired counts: not JSON (${jsonSyntaxProblem(e)})`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    throw new InputError('desired counts: expected an object of pool → count');
  }
  const entries = Object.entries(doc);
  if (entries.length > DESIRED_LIMITS.pools) throw new InputError(`desired counts: more than ${DESIRED_LIMITS.pools} pools`);
  const unknown = options.pools ? entries.map(([pool]) => pool).filter((p) => !options.pools?.has(p) && !options.ignored?.has(p)) : [];
  if (unknown.length > 0) {
    throw new InputError(
      `desired counts: no policy defines pool ${unknown.map((p) => JSON.stringify(p)).join(', ')} (a typo? list it in ignoredPools to allow it)`,
    );
  }
  const pools: [string, PoolDemand][] = [];
  for (const [pool, value] of entries) {
    if (options.ignored?.has(pool) && !options.pools?.has(pool)) continue;
    pools.push([
      pool,
      typeof value === 'object' && value !== null && !Array.isArray(value)
        ? poolObject(pool, value as Record<string, unknown>)
        : { desired: count(pool, undefined, value, DESIRED_LIMITS.count) },
    ]);
  }
  // fromEntries defines own properties: a key such as "__proto__" stays a key, never a prototype.
  return Object.fromEntries(pools);
}

/** Only the counts, as fleet uses them when no policy is at hand (every pool accepted). */
export function parseDesired(text: string): Record<string, number> {
  return Object.fromEntries(
    Object.entries(parseDesiredDocument(text)).map(([pool, d]) => [pool, d.desired ?? (d.pending ?? 0) + (d.running ?? 0)]),
  );
}

function poolObject(pool: string, value: Record<string, unknown>): PoolDemand {
  const extra = Object.keys(value).find((k) => !FIELDS.has(k));
  if (extra !== undefined)
    throw new InputError(
      `desired counts: ${JSON.stringify(pool)}: unknown key ${JSON.stringify(extra)} (expected desired, pending, running, oldestPendingSeconds, busy)`,
    );
  const demand: { -readonly [K in keyof PoolDemand]: PoolDemand[K] } = {};
  for (const field of COUNT_FIELDS) if (value[field] !== undefined) demand[field] = count(pool, field, value[field], DESIRED_LIMITS.count);
  if (value.oldestPendingSeconds !== undefined)
    demand.oldestPendingSeconds = count(pool, 'oldestPendingSeconds', value.oldestPendingSeconds, DESIRED_LIMITS.oldestPendingSeconds);
  if (value.busy !== undefined) demand.busy = busyNames(pool, value.busy);
  return demand;
}

function count(pool: string, field: string | undefined, value: unknown, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > max) {
    const where = field === undefined ? JSON.stringify(pool) : `${JSON.stringify(pool)}.${field}`;
    throw new InputError(
      `desired counts: ${where} must be a non-negative integer up to ${max} (got ${JSON.stringify(value) ?? String(value)})`,
    );
  }
  return value;
}

function busyNames(pool: string, value: unknown): string[] {
  const where = `${JSON.stringify(pool)}.busy`;
  if (!Array.isArray(value)) throw new InputError(`desired counts: ${where} must be a list of slot names`);
  if (value.length > DESIRED_LIMITS.busy) throw new InputError(`desired counts: ${where} lists more than ${DESIRED_LIMITS.busy} names`);
  for (const name of value) {
    if (typeof name !== 'string' || name === '' || name.length > DESIRED_LIMITS.nameLength) {
      throw new InputError(
        `desired counts: ${where} must hold slot names (strings of 1-${DESIRED_LIMITS.nameLength} characters; got ${JSON.stringify(name)?.slice(0, 40) ?? String(name)})`,
      );
    }
  }
  return [...new Set(value as string[])];
}
