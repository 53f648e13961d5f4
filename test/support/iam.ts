// A small IAM policy evaluator: enough of IAM's semantics to judge fleet's own policies against the
// calls fleet makes. Unknown operators and fields throw, so a policy that uses more than this
// evaluator understands fails loudly instead of being judged wrongly.

import { readFileSync } from 'node:fs';

export type ContextValue = string | readonly string[];

/** One authorization: an action on one resource, with the request context IAM would see. */
export interface AuthRequest {
  readonly action: string;
  readonly resource: string;
  readonly context: Readonly<Record<string, ContextValue>>;
  /** where the request comes from, for messages */
  readonly call?: string;
}

export interface Statement {
  readonly Sid?: string;
  readonly Effect: 'Allow' | 'Deny';
  readonly Action?: string | readonly string[];
  readonly NotAction?: string | readonly string[];
  readonly Resource?: string | readonly string[];
  readonly NotResource?: string | readonly string[];
  readonly Condition?: Readonly<Record<string, Readonly<Record<string, string | boolean | readonly (string | boolean)[]>>>>;
}

export interface Policy {
  readonly Version: string;
  readonly Statement: readonly Statement[];
}

export type Decision =
  | { readonly allowed: true; readonly by: string }
  | { readonly allowed: false; readonly why: 'explicit deny' | 'implicit deny'; readonly by?: string };

const KNOWN_FIELDS = new Set(['Sid', 'Effect', 'Action', 'NotAction', 'Resource', 'NotResource', 'Condition']);

export function loadPolicy(path: string): Policy {
  const policy = JSON.parse(readFileSync(path, 'utf8')) as Policy;
  if (policy.Version !== '2012-10-17') throw new Error(`${path}: Version must be 2012-10-17 (policy variables need it)`);
  for (const s of policy.Statement) {
    for (const field of Object.keys(s))
      if (!KNOWN_FIELDS.has(field)) throw new Error(`${path}: statement ${s.Sid ?? '?'} has ${field}, which this evaluator does not know`);
  }
  return policy;
}

/** IAM's decision: an explicit Deny wins, then any Allow, else the implicit deny. */
export function evaluate(policy: Policy, request: AuthRequest): Decision {
  let allowedBy: string | undefined;
  for (const [n, s] of policy.Statement.entries()) {
    if (!applies(s, request)) continue;
    const name = s.Sid ?? `#${n}`;
    if (s.Effect === 'Deny') return { allowed: false, why: 'explicit deny', by: name };
    allowedBy ??= name;
  }
  return allowedBy !== undefined ? { allowed: true, by: allowedBy } : { allowed: false, why: 'implicit deny' };
}

function applies(s: Statement, r: AuthRequest): boolean {
  const matchAction = (p: string) => glob(p, r.action, true);
  const matchResource = (p: string) => glob(substitute(p, r.context), r.resource, false);
  if (s.Action !== undefined && !list(s.Action).some(matchAction)) return false;
  if (s.NotAction !== undefined && list(s.NotAction).some(matchAction)) return false;
  if (s.Action === undefined && s.NotAction === undefined) throw new Error(`statement ${s.Sid ?? '?'} has neither Action nor NotAction`);
  if (s.Resource !== undefined && !list(s.Resource).some(matchResource)) return false;
  if (s.NotResource !== undefined && list(s.NotResource).some(matchResource)) return false;
  return Object.entries(s.Condition ?? {}).every(([operator, keys]) =>
    Object.entries(keys).every(([key, expected]) =>
      condition(
        operator,
        lookup(r.context, key),
        list(expected).map((v) => substitute(String(v), r.context)),
      ),
    ),
  );
}

function condition(operator: string, actual: readonly string[] | undefined, expected: readonly string[]): boolean {
  const qualifier = /^(ForAllValues|ForAnyValue):(.*)$/.exec(operator);
  const base = qualifier ? (qualifier[2] as string) : operator;
  const ifExists = base.endsWith('IfExists');
  const op = ifExists ? base.slice(0, -'IfExists'.length) : base;
  if (op === 'Null') {
    if (qualifier || ifExists) throw new Error(`${operator} is not a valid operator`);
    const absent = actual === undefined || actual.length === 0;
    return expected.some((v) => (v === 'true') === absent);
  }
  const match = matcher(op);
  if (qualifier?.[1] === 'ForAllValues') return actual === undefined || actual.every((a) => expected.some((e) => match(a, e)));
  if (qualifier?.[1] === 'ForAnyValue') return actual !== undefined && actual.some((a) => expected.some((e) => match(a, e)));
  if (actual === undefined) return ifExists || NEGATED.has(op);
  if (actual.length !== 1) throw new Error(`${operator} on a multivalued key needs ForAllValues or ForAnyValue`);
  return NEGATED.has(op) ? expected.every((e) => match(actual[0] as string, e)) : expected.some((e) => match(actual[0] as string, e));
}

const NEGATED = new Set(['StringNotEquals', 'StringNotEqualsIgnoreCase', 'StringNotLike', 'ArnNotEquals', 'ArnNotLike']);

function matcher(op: string): (actual: string, expected: string) => boolean {
  switch (op) {
    case 'StringEquals':
    case 'ArnEquals':
      return (a, e) => a === e;
    case 'StringNotEquals':
    case 'ArnNotEquals':
      return (a, e) => a !== e;
    case 'StringEqualsIgnoreCase':
      return (a, e) => a.toLowerCase() === e.toLowerCase();
    case 'StringNotEqualsIgnoreCase':
      return (a, e) => a.toLowerCase() !== e.toLowerCase();
    case 'StringLike':
    case 'ArnLike':
      return (a, e) => glob(e, a, false);
    case 'StringNotLike':
    case 'ArnNotLike':
      return (a, e) => !glob(e, a, false);
    case 'Bool':
      return (a, e) => a.toLowerCase() === e.toLowerCase();
    default:
      throw new Error(`condition operator ${op} is not known to this evaluator`);
  }
}

/** Condition keys are case-insensitive in their service prefix and name; tag keys after the slash are not. */
function lookup(context: AuthRequest['context'], key: string): readonly string[] | undefined {
  const wanted = normaliseKey(key);
  for (const [k, v] of Object.entries(context)) if (normaliseKey(k) === wanted) return list(v);
  return undefined;
}

function normaliseKey(key: string): string {
  const slash = key.indexOf('/');
  return slash < 0 ? key.toLowerCase() : `${key.slice(0, slash).toLowerCase()}${key.slice(slash)}`;
}

/** Policy variables (`${aws:PrincipalAccount}`); one that the context lacks matches nothing. */
function substitute(value: string, context: AuthRequest['context']): string {
  return value.replace(/\$\{([^}]+)\}/g, (_, key: string) => {
    const found = lookup(context, key);
    return found?.length === 1 ? (found[0] as string) : '\u0000unresolved';
  });
}

function glob(pattern: string, value: string, ignoreCase: boolean): boolean {
  const source = pattern
    .split('')
    .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${source}$`, ignoreCase ? 'is' : 's').test(value);
}

function list<T>(v: T | readonly T[]): readonly T[] {
  return Array.isArray(v) ? (v as readonly T[]) : [v as T];
}
