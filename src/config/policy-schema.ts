import { InputError } from '../domain/errors.js';
import { normaliseProductDescription } from '../domain/types.js';
import type {
  Budget,
  DemandPolicy,
  DemandSource,
  InstanceTypeChoice,
  MaxPrice,
  PoolPolicy,
  RegionPlacement,
  ScaleDown,
  ScheduleWindow,
  Spread,
} from '../domain/policy.js';
import { isValidNameTemplate } from '../policy/names.js';
import { scheduleProblem } from '../policy/schedule.js';
import { PLACEHOLDERS, unknownPlaceholders } from '../policy/user-data.js';

/** Half the pool per offer, among offers priced close to the best (see `Spread`). */
const AUTO_SPREAD: Spread = { kind: 'percent', value: 50, auto: true };

export const PRODUCT_DESCRIPTIONS = ['Linux/UNIX', 'SUSE Linux', 'Red Hat Enterprise Linux', 'Windows'] as const;

const POOL_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;
const REGION = /^[a-z]{2}(-[a-z]+)+-\d+$/;
const AZ = /^[a-z]{2}(-[a-z]+)+-\d+[a-z]$/;
const INSTANCE_TYPE = /^[a-z][a-z0-9-]*\.[a-z0-9]+$/;

type Json = Record<string, unknown>;

/** Fields whose values may be secrets: an error about them names the type only. */
const SECRET_PATH = /userData|secret|token|password|credential/i;
const MAX_SHOWN = 40;

/** A wrong value as an error may show it: only a short scalar, never an object or a secret-ish field. */
function shown(path: string, value: unknown): string {
  if (value === null) return 'null';
  const type = Array.isArray(value) ? 'an array' : typeof value === 'object' ? 'an object' : `a ${typeof value}`;
  if (SECRET_PATH.test(path) || typeof value === 'object') return type;
  const text = JSON.stringify(value) ?? typeof value;
  return text.length > MAX_SHOWN || /[\u0000-\u001f]/.test(text) ? type : text;
}

/** Reads one JSON value at a path, failing with the path in the message. */
class Field {
  constructor(
    readonly value: unknown,
    readonly path: string,
  ) {}

  fail(expected: string): never {
    throw new InputError(`${this.path}: ${expected} (got ${shown(this.path, this.value)})`);
  }

  get present(): boolean {
    return this.value !== undefined;
  }

  object(allowed: readonly string[]): Json {
    if (typeof this.value !== 'object' || this.value === null || Array.isArray(this.value)) this.fail('expected an object');
    // Keys starting with "$" or "_" are comments ("$comment", "_note"): JSON has no other kind.
    const unknown = Object.keys(this.value).filter((k) => !allowed.includes(k) && !/^[$_]/.test(k));
    if (unknown.length > 0)
      throw new InputError(`${this.path}: unknown key ${JSON.stringify(unknown[0])} (allowed: ${allowed.join(', ')})`);
    return this.value as Json;
  }

  string(pattern?: RegExp, expected = 'expected a non-empty string'): string {
    if (typeof this.value !== 'string' || this.value === '' || (pattern && !pattern.test(this.value))) this.fail(expected);
    return this.value;
  }

  integer(min = 0): number {
    if (typeof this.value !== 'number' || !Number.isInteger(this.value) || this.value < min) this.fail(`expected an integer ≥ ${min}`);
    return this.value;
  }

  boolean(): boolean {
    if (typeof this.value !== 'boolean') this.fail('expected true or false');
    return this.value;
  }

  array(): unknown[] {
    if (!Array.isArray(this.value)) this.fail('expected an array');
    return this.value;
  }

  strings(pattern?: RegExp, expected?: string): string[] {
    return this.array().map((v, n) => new Field(v, `${this.path}[${n}]`).string(pattern, expected));
  }

  /** A count (integer) or a percentage ("10%"). */
  budget(): Budget {
    const v = this.value;
    if (typeof v === 'number' && Number.isInteger(v) && v >= 0) return { kind: 'count', value: v };
    if (typeof v === 'string') {
      const pct = /^\s*(\d+(?:\.\d+)?)\s*%\s*$/.exec(v);
      if (pct && Number(pct[1]) <= 100) return { kind: 'percent', value: Number(pct[1]) };
      if (/^\s*\d+\s*$/.test(v)) return { kind: 'count', value: Number(v) };
    }
    this.fail('expected a count (integer ≥ 0) or a percentage such as "10%"');
  }

  /** A share: "20%" (or 0.2), between 0 and 1. */
  share(): number {
    const v = this.value;
    if (typeof v === 'number' && v >= 0 && v <= 1) return v;
    if (typeof v === 'string') {
      const pct = /^\s*(\d+(?:\.\d+)?)\s*%\s*$/.exec(v);
      if (pct && Number(pct[1]) <= 100) return Number(pct[1]) / 100;
    }
    this.fail('expected a share such as "20%" (or a number from 0 to 1)');
  }

  /** Dollars per instance-hour, or a share of the on-demand price ("80%"). */
  maxPrice(): MaxPrice {
    const v = this.value;
    if (typeof v === 'number' && v > 0 && Number.isFinite(v)) return { kind: 'dollars', value: v };
    if (typeof v === 'string') {
      const pct = /^\s*(\d+(?:\.\d+)?)\s*%\s*$/.exec(v);
      if (pct && Number(pct[1]) > 0) return { kind: 'percent', value: Number(pct[1]) };
      if (/^\s*\d+(\.\d+)?\s*$/.test(v) && Number(v) > 0) return { kind: 'dollars', value: Number(v) };
    }
    this.fail('expected dollars per hour (> 0) or a percentage of the on-demand price such as "100%"');
  }

  at(key: string): Field {
    return new Field((this.value as Json | undefined)?.[key], `${this.path}.${key}`);
  }
}

const TOP_KEYS = [
  'pool',
  'instanceTypes',
  'regions',
  'productDescription',
  'keyName',
  'instanceProfile',
  'userData',
  'size',
  'spot',
  'onDemand',
  'onDemandPrice',
  'scaleDown',
  'scaleDownAfter',
  'freshness',
  'rebalance',
  'names',
  'spread',
  'ignoredAzs',
  'stopTimeout',
  'maxLifetime',
  'demand',
];

/** Ten years: far beyond any sensible duration, small enough for every timer and date sum. */
const MAX_SECONDS = 10 * 366 * 86_400;

/** Validate one parsed policy file and fill in every default. `source` names it in errors. */
export function parsePolicy(doc: unknown, source: string): PoolPolicy {
  const root = new Field(doc, source);
  root.object(TOP_KEYS);
  const pool = root.at('pool').string(POOL_NAME, 'expected a pool name (letters, digits, . _ -)');

  const size = root.at('size');
  if (size.present) size.object(['min', 'max']);
  const min = size.at('min').present ? size.at('min').integer(0) : 0;
  const max = size.at('max').present ? size.at('max').integer(0) : Math.max(min, 100);
  if (max < min) throw new InputError(`${source}.size.max: must be ≥ size.min (${min}) (got ${max})`);

  const spot = root.at('spot');
  if (spot.present) spot.object(['maxPrice', 'fallbackAfter']);
  const onDemand = root.at('onDemand');
  if (onDemand.present) onDemand.object(['max', 'replaceBudget']);
  const freshness = root.at('freshness');
  if (freshness.present) freshness.object(['grace', 'retireBudget', 'drainBudget', 'canary', 'bake', 'guard']);
  const rebalance = root.at('rebalance');
  if (rebalance.present) rebalance.object(['enabled', 'minSaving', 'horizon', 'budget']);
  const guard = freshness.at('guard');
  if (guard.present) guard.object(['window', 'failures']);

  const guardWindow = guard.at('window').present ? guard.at('window').integer(0) : 900;

  const productDescription = root.at('productDescription').present ? root.at('productDescription').string(undefined) : 'Linux/UNIX';
  const baseProduct = normaliseProductDescription(productDescription);
  if (!(PRODUCT_DESCRIPTIONS as readonly string[]).includes(baseProduct)) {
    root.at('productDescription').fail(`expected one of ${PRODUCT_DESCRIPTIONS.join(', ')}`);
  }

  const scaleDownValue = root.at('scaleDown').present ? root.at('scaleDown').string() : 'terminate';
  if (scaleDownValue !== 'none' && scaleDownValue !== 'terminate') root.at('scaleDown').fail('expected "none" or "terminate"');
  const scaleDown = scaleDownValue as ScaleDown;

  const names = root.at('names').present ? root.at('names').string() : `${pool}-{nnn}`;
  if (!isValidNameTemplate(names)) root.at('names').fail('expected a template with one slot number placeholder such as "{nnn}"');

  const optional = (key: string) => (root.at(key).present ? root.at(key).string() : undefined);
  const keyName = optional('keyName');
  const instanceProfile = optional('instanceProfile');
  const userData = root.at('userData').present ? userDataTemplate(root.at('userData')) : undefined;
  const onDemandPrice = root.at('onDemandPrice').present ? positiveNumber(root.at('onDemandPrice')) : undefined;

  return {
    pool,
    instanceTypes: instanceTypes(root.at('instanceTypes')),
    regions: regions(root.at('regions')),
    productDescription,
    ...(keyName !== undefined ? { keyName } : {}),
    ...(instanceProfile !== undefined ? { instanceProfile } : {}),
    ...(userData !== undefined ? { userData } : {}),
    size: { min, max },
    spot: {
      maxPrice: spot.at('maxPrice').present ? spot.at('maxPrice').maxPrice() : { kind: 'percent', value: 100 },
      fallbackAfter: spot.at('fallbackAfter').present ? spot.at('fallbackAfter').integer(0) : 300,
    },
    onDemand: {
      max: onDemand.at('max').present ? onDemand.at('max').integer(0) : max,
      replaceBudget: onDemand.at('replaceBudget').present ? onDemand.at('replaceBudget').budget() : { kind: 'percent', value: 50 },
    },
    ...(onDemandPrice !== undefined ? { onDemandPrice } : {}),
    scaleDown,
    scaleDownAfter: root.at('scaleDownAfter').present ? root.at('scaleDownAfter').integer(0) : 0,
    freshness: {
      grace: freshness.at('grace').present ? freshness.at('grace').integer(0) : 10800,
      retireBudget: freshness.at('retireBudget').present ? freshness.at('retireBudget').budget() : { kind: 'percent', value: 10 },
      drainBudget: freshness.at('drainBudget').present ? freshness.at('drainBudget').budget() : { kind: 'percent', value: 50 },
      canary: freshness.at('canary').present ? freshness.at('canary').budget() : { kind: 'count', value: 1 },
      // The bake defaults to the guard's window: an image is trusted once it has outlived the guard.
      bake: freshness.at('bake').present ? freshness.at('bake').integer(0) : guardWindow,
      guard: { window: guardWindow, failures: guard.at('failures').present ? guard.at('failures').integer(1) : 3 },
    },
    rebalance: {
      enabled: rebalance.at('enabled').present ? rebalance.at('enabled').boolean() : true,
      minSaving: rebalance.at('minSaving').present ? rebalance.at('minSaving').share() : 0.05,
      horizon: rebalance.at('horizon').present ? rebalance.at('horizon').integer(0) : 21600,
      budget: rebalance.at('budget').present ? rebalance.at('budget').budget() : { kind: 'percent', value: 50 },
    },
    names,
    spread: root.at('spread').present && root.at('spread').value !== 'auto' ? root.at('spread').budget() : AUTO_SPREAD,
    ignoredAzs: root.at('ignoredAzs').present
      ? root.at('ignoredAzs').strings(AZ, 'expected an availability zone such as "us-east-1a"')
      : [],
    stopTimeoutSeconds: root.at('stopTimeout').present ? seconds(root.at('stopTimeout')) : 3600,
    maxLifetimeSeconds: root.at('maxLifetime').present ? seconds(root.at('maxLifetime')) : 0,
    demand: demand(root.at('demand')),
  };
}

function seconds(field: Field): number {
  const value = field.integer(0);
  if (value > MAX_SECONDS) field.fail(`expected seconds from 0 to ${MAX_SECONDS}`);
  return value;
}

function demand(field: Field): DemandPolicy {
  if (field.present) field.object(['minIdle', 'scaleFactor', 'idleTimeout', 'maxWaitSeconds', 'schedule', 'source']);
  const scaleFactor = field.at('scaleFactor');
  return {
    minIdle: field.at('minIdle').present ? field.at('minIdle').integer(0) : 0,
    scaleFactor: scaleFactor.present ? boundedNumber(scaleFactor, 0.01, 100) : 1,
    idleTimeoutSeconds: field.at('idleTimeout').present ? seconds(field.at('idleTimeout')) : 600,
    maxWaitSeconds: field.at('maxWaitSeconds').present ? seconds(field.at('maxWaitSeconds')) : 300,
    schedule: field.at('schedule').present
      ? field
          .at('schedule')
          .array()
          .map((_, n) => scheduleWindow(field.at('schedule').at(String(n))))
      : [],
    ...(field.at('source').present ? { source: demandSource(field.at('source')) } : {}),
  };
}

const HTTP_URL = /^https?:\/\/[^\s/?#]+[^\s?#]*$/;
const SQS_URL = /^https?:\/\/[^\s/]+\/\d+\/[A-Za-z0-9_-]{1,80}(\.fifo)?$/;
const LABEL = /^[^\s,]{1,100}$/;

/** Exactly one of prometheus, sqs or github. */
function demandSource(field: Field): DemandSource {
  const kinds = Object.keys(field.object(['prometheus', 'sqs', 'github'])).filter((k) => !/^[$_]/.test(k));
  if (kinds.length !== 1) field.fail('expected exactly one of prometheus, sqs, github');
  if (field.at('prometheus').present) {
    const p = field.at('prometheus');
    p.object(['url', 'pending', 'running', 'oldestPendingSeconds']);
    const oldest = p.at('oldestPendingSeconds');
    return {
      kind: 'prometheus',
      url: p.at('url').string(HTTP_URL, "expected the Prometheus server's http(s):// URL without a query"),
      pending: p.at('pending').string(),
      running: p.at('running').string(),
      ...(oldest.present ? { oldestPendingSeconds: oldest.string() } : {}),
    };
  }
  if (field.at('sqs').present) {
    const q = field.at('sqs');
    q.object(['queueUrl']);
    return {
      kind: 'sqs',
      queueUrl: q.at('queueUrl').string(SQS_URL, 'expected an SQS queue URL such as https://sqs.us-east-1.amazonaws.com/123456789012/jobs'),
    };
  }
  const g = field.at('github');
  g.object(['labels']);
  const labels = g.at('labels').strings(LABEL, 'expected a runner label');
  if (labels.length === 0) g.at('labels').fail('expected at least one label');
  return { kind: 'github', labels: [...new Set(labels.map((l) => l.toLowerCase()))] };
}

function scheduleWindow(field: Field): ScheduleWindow {
  field.object(['cron', 'durationSeconds', 'min', 'timezone']);
  const window: ScheduleWindow = {
    cron: field.at('cron').string(undefined, 'expected a cron expression such as "0 13 * * 1-5"'),
    durationSeconds: seconds(field.at('durationSeconds')),
    min: field.at('min').integer(0),
    timezone: field.at('timezone').present ? field.at('timezone').string() : 'UTC',
  };
  const problem = scheduleProblem(window);
  if (problem) throw new InputError(`${field.path}: ${problem}`);
  return window;
}

function boundedNumber(field: Field, min: number, max: number): number {
  if (typeof field.value !== 'number' || !Number.isFinite(field.value) || field.value < min || field.value > max)
    field.fail(`expected a number from ${min} to ${max}`);
  return field.value;
}

function instanceTypes(field: Field): InstanceTypeChoice[] {
  const entries = field.array();
  if (entries.length === 0) field.fail('expected at least one instance type');
  const choices = entries.map((entry, n) => {
    const item = new Field(entry, `${field.path}[${n}]`);
    if (typeof entry === 'string') return { type: item.string(INSTANCE_TYPE, 'expected an instance type such as "c5.xlarge"'), weight: 1 };
    item.object(['type', 'weight']);
    const weight = item.at('weight').present ? positiveNumber(item.at('weight')) : 1;
    return { type: item.at('type').string(INSTANCE_TYPE, 'expected an instance type such as "c5.xlarge"'), weight };
  });
  const seen = new Set<string>();
  for (const c of choices) {
    if (seen.has(c.type)) field.fail(`lists ${c.type} twice`);
    seen.add(c.type);
  }
  return choices;
}

function regions(field: Field): Record<string, RegionPlacement> {
  const doc = field.value;
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc) || Object.keys(doc).length === 0) {
    field.fail('expected an object of region → {"subnets", "securityGroups"}');
  }
  const out: Record<string, RegionPlacement> = {};
  for (const region of Object.keys(doc)) {
    if (!REGION.test(region)) throw new InputError(`${field.path}: ${JSON.stringify(region)} is not a region name`);
    const entry = field.at(region);
    entry.object(['subnets', 'securityGroups', 'publicIp']);
    const subnets = entry.at('subnets').strings(/^subnet-[0-9a-zA-Z]+$/, 'expected a subnet id such as "subnet-0a1b"');
    if (subnets.length === 0) entry.at('subnets').fail('expected at least one subnet id');
    const securityGroups = entry.at('securityGroups').present
      ? entry.at('securityGroups').strings(/^sg-[0-9a-zA-Z]+$/, 'expected a security group id such as "sg-0c2d"')
      : [];
    out[region] = {
      subnets,
      securityGroups,
      ...(entry.at('publicIp').present ? { publicIp: entry.at('publicIp').boolean() } : {}),
    };
  }
  return out;
}

/** The user data may hold secrets: a message names the placeholder, never the text. */
function userDataTemplate(field: Field): string {
  if (typeof field.value !== 'string') field.fail('expected a string');
  const unknown = unknownPlaceholders(field.value);
  if (unknown.length > 0) {
    throw new InputError(
      `${field.path}: unknown placeholder ${unknown.map((p) => `{${p}}`).join(', ')} (only ${PLACEHOLDERS.map((p) => `{${p}}`).join(', ')} exist)`,
    );
  }
  return field.value;
}

function positiveNumber(field: Field): number {
  if (typeof field.value !== 'number' || !(field.value > 0) || !Number.isFinite(field.value)) field.fail('expected a number > 0');
  return field.value;
}
