import { existsSync, readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import convict from 'convict';
import { InputError } from '../domain/errors.js';
import { queueUrlProblem } from '../events/queue-url.js';
import { isPlainHttp, redactLocation, unknownScheme } from '../shared/location.js';

export interface FleetConfig {
  /** the ownership name written on every resource (tag fleet:managed-by) */
  readonly fleet: string;
  readonly regions: readonly string[];
  /** the SQS queue an EventBridge rule feeds with EC2's events; '' when fleet reads none */
  readonly events: { readonly queue: string };
  /** s3://bucket/key, https://..., or a file path */
  readonly manifest: string;
  readonly desired: string;
  /** pool names a desired document may carry though no policy defines them (any other unknown name refuses it) */
  readonly ignoredPools?: readonly string[];
  /** s3://bucket/prefix/ or a local directory */
  readonly state: string;
  /** directory of pool policies */
  readonly policies: string;
  /** seconds between cycles */
  readonly interval: number;
  readonly log: { readonly level: string };
  /** where /metrics and /healthz listen: host is an address of this machine (loopback by default) */
  readonly metrics: { readonly port: number; readonly host: string };
  /** the listener of GitHub's workflow_job webhooks while reconcile runs (port 0: off) */
  readonly webhooks?: { readonly port: number; readonly host: string };
  readonly manifestTags: { readonly pool: string; readonly created: string };
  /** seconds an offer that failed for capacity stays out of placement */
  readonly capacityTtl: number;
  /** seconds spot prices are reused before they are asked again */
  readonly priceTtl: number;
  /** seconds a launch may stay invisible before fleet gives up on it */
  readonly visibilityTimeout: number;
  /** read the manifest and desired over plain http:// (refused by default: it can be altered in transit) */
  readonly allowHttp?: boolean;
  /** the only AMI owners fleet launches from: `self` (the account fleet runs in) or 12-digit account ids */
  readonly imageOwners: readonly string[];
}

const REGION = /^[a-z]{2}(-[a-z]+)+-\d+$/;
const HOSTNAME = /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/**
 * Bounds of the numeric keys (seconds, inclusive). Past them a value is a mistake: an interval of
 * weeks overflows Node's timers (a busy loop) and writes a lease for months.
 */
export const BOUNDS = {
  interval: { min: 1, max: 3600 },
  capacityTtl: { min: 1, max: 86_400 },
  priceTtl: { min: 1, max: 86_400 },
  visibilityTimeout: { min: 60, max: 86_400 },
} as const;

/** A convict format name for an integer in [min, max], registered on first use. */
function boundedInt({ min, max }: { min: number; max: number }): string {
  const name = `int-${min}-${max}`;
  convict.addFormat({
    name,
    validate(v: unknown) {
      if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max)
        throw new Error(`must be an integer from ${min} to ${max} (got ${JSON.stringify(v) ?? String(v)})`);
    },
    coerce: (v: unknown) => (typeof v === 'string' && /^\s*-?\d+(\.\d+)?\s*$/.test(v) ? Number(v) : v),
  });
  return name;
}

function schema(env: NodeJS.ProcessEnv) {
  return convict(
    {
      fleet: { doc: 'Ownership name written on every resource', format: 'fleet-name', default: 'fleet', env: 'FLEET_FLEET' },
      regions: { doc: 'Regions this fleet manages', format: 'region-list', default: ['us-east-1'], env: 'FLEET_REGIONS' },
      events: {
        queue: {
          doc: 'SQS queue URL an EventBridge rule feeds with EC2 events (empty: off)',
          format: 'queue-url',
          default: '',
          env: 'FLEET_EVENTS_QUEUE',
        },
      },
      manifest: { doc: 'AMI manifest: s3://bucket/key, https://... or a file', format: 'location', default: '', env: 'FLEET_MANIFEST' },
      desired: { doc: 'Desired counts per pool: s3://, https:// or a file', format: 'location', default: '', env: 'FLEET_DESIRED' },
      ignoredPools: {
        doc: 'Pools a desired document may name though no policy defines them',
        format: 'pool-list',
        default: [] as string[],
        env: 'FLEET_IGNORED_POOLS',
      },
      state: { doc: 'State store: s3://bucket/prefix/ or a local directory', format: 'location', default: '.state', env: 'FLEET_STATE' },
      policies: { doc: 'Directory of pool policies', format: 'location', default: 'policies', env: 'FLEET_POLICIES' },
      interval: { doc: 'Seconds between reconcile cycles', format: boundedInt(BOUNDS.interval), default: 60, env: 'FLEET_INTERVAL' },
      log: {
        level: {
          doc: 'Log level',
          format: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'],
          default: 'info',
          env: 'FLEET_LOG_LEVEL',
        },
      },
      metrics: {
        port: {
          doc: 'Port of /metrics and /healthz while reconcile runs (0: off)',
          format: 'port',
          default: 9464,
          env: 'FLEET_METRICS_PORT',
        },
        host: {
          doc: 'Address /metrics and /healthz listen on (0.0.0.0: every interface)',
          format: 'listen-host',
          default: '127.0.0.1',
          env: 'FLEET_METRICS_HOST',
        },
      },
      webhooks: {
        port: {
          doc: 'Port of the GitHub webhook listener while reconcile runs (0: off); its secret comes from FLEET_WEBHOOKS_GITHUB_SECRET only',
          format: 'port',
          default: 0,
          env: 'FLEET_WEBHOOKS_PORT',
        },
        host: { doc: 'Address the webhook listener binds', format: String, default: '127.0.0.1', env: 'FLEET_WEBHOOKS_HOST' },
      },
      manifestTags: {
        pool: {
          doc: 'Tag naming the pool in a Mozilla-form manifest',
          format: String,
          default: 'moz-type',
          env: 'FLEET_MANIFEST_TAGS_POOL',
        },
        created: {
          doc: 'Tag holding the creation time in a Mozilla-form manifest',
          format: String,
          default: 'moz-created',
          env: 'FLEET_MANIFEST_TAGS_CREATED',
        },
      },
      capacityTtl: {
        doc: 'Seconds an offer that failed for capacity is kept out',
        format: boundedInt(BOUNDS.capacityTtl),
        default: 180,
        env: 'FLEET_CAPACITY_TTL',
      },
      priceTtl: { doc: 'Seconds spot prices are cached', format: boundedInt(BOUNDS.priceTtl), default: 300, env: 'FLEET_PRICE_TTL' },
      visibilityTimeout: {
        doc: 'Seconds a launch may stay invisible',
        format: boundedInt(BOUNDS.visibilityTimeout),
        default: 600,
        env: 'FLEET_VISIBILITY_TIMEOUT',
      },
      allowHttp: {
        doc: 'Read manifest and desired over plain http:// too',
        format: 'strict-boolean',
        default: false,
        env: 'FLEET_ALLOW_HTTP',
      },
      imageOwners: {
        doc: 'The only AMI owners fleet launches from: "self" or 12-digit account ids',
        format: 'image-owners',
        default: ['self'],
        env: 'FLEET_IMAGE_OWNERS',
      },
    },
    { env, args: [] },
  );
}

/** A list given as one comma-separated string (as environment variables give it) is split. */
const commaList = (v: unknown) =>
  typeof v === 'string'
    ? v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
    : v;

let formatsAdded = false;
function addFormats(): void {
  if (formatsAdded) return;
  formatsAdded = true;
  convict.addFormats({
    'fleet-name': {
      validate(v: unknown) {
        if (typeof v !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/.test(v)) {
          throw new Error('must be 1-63 letters, digits, dots, dashes or underscores');
        }
      },
    },
    'region-list': {
      validate(v: unknown) {
        if (!Array.isArray(v) || v.length === 0) throw new Error('must list at least one region');
        for (const r of v) if (typeof r !== 'string' || !REGION.test(r)) throw new Error(`${JSON.stringify(r)} is not a region name`);
      },
      coerce: commaList,
    },
    'pool-list': {
      validate(v: unknown) {
        if (!Array.isArray(v)) throw new Error('must be a list of pool names');
        for (const p of v)
          if (typeof p !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(p))
            throw new Error(`${JSON.stringify(p)} is not a pool name`);
      },
      coerce: commaList,
    },
    'image-owners': {
      validate(v: unknown) {
        if (!Array.isArray(v) || v.length === 0) throw new Error('must list at least one owner ("self" or a 12-digit account id)');
        for (const o of v)
          if (typeof o !== 'string' || !(o === 'self' || /^\d{12}$/.test(o)))
            throw new Error(`${JSON.stringify(o)} is not an image owner ("self" or a 12-digit account id)`);
      },
      coerce: commaList,
    },
    location: {
      validate(v: unknown) {
        if (typeof v !== 'string') throw new Error('must be a string');
        const unknown = unknownScheme(v);
        if (unknown) throw new Error(unknown);
        if (v.startsWith('s3://') && !/^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/.*)?$/.test(v))
          throw new Error(`${JSON.stringify(redactLocation(v))} is not an s3://bucket/key location`);
      },
    },
    'listen-host': {
      validate(v: unknown) {
        if (typeof v !== 'string' || (isIP(v) === 0 && !HOSTNAME.test(v)))
          throw new Error(`${JSON.stringify(v)} is not an IP address or host name`);
      },
    },
    'queue-url': {
      validate(v: unknown) {
        if (typeof v !== 'string') throw new Error('must be a string');
        const problem = v === '' ? undefined : queueUrlProblem(v);
        if (problem) throw new Error(problem);
      },
    },
    'strict-boolean': {
      validate(v: unknown) {
        if (typeof v !== 'boolean') throw new Error('must be true or false');
      },
      coerce: (v: unknown) => (v === 'true' ? true : v === 'false' ? false : v),
    },
    'positive-int': {
      validate(v: unknown) {
        if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0)
          throw new Error(`must be a positive integer (got ${JSON.stringify(v)})`);
      },
      coerce: (v: unknown) => (typeof v === 'string' && /^\s*-?\d+(\.\d+)?\s*$/.test(v) ? Number(v) : v),
    },
  });
}

export const DEFAULT_CONFIG_FILE = 'config/default.json';

/** The config/default.json that ships with the installed package (src/config or dist/config → package root). */
export const PACKAGED_CONFIG_FILE = fileURLToPath(new URL('../../config/default.json', import.meta.url));

/**
 * The config file used when neither --config nor FLEET_CONFIG names one: ./config/default.json when
 * the working directory has one (a checkout), else the installed package's own, so a globally
 * installed `fleet` runs from any directory.
 */
export function defaultConfigFile(cwd: string = process.cwd()): string {
  const local = join(cwd, DEFAULT_CONFIG_FILE);
  return existsSync(local) ? local : PACKAGED_CONFIG_FILE;
}

/**
 * Load the configuration: defaults, then the JSON file, then FLEET_* variables.
 * Relative paths in the file are taken from the file's own directory, so a config works from any
 * working directory; relative paths from the environment are taken from the working directory.
 */
export function loadConfig(file: string | undefined, env: NodeJS.ProcessEnv = process.env): FleetConfig {
  addFormats();
  const explicit = file ?? env.FLEET_CONFIG;
  const path = explicit ?? defaultConfigFile();
  const config = schema(env);
  let fromFile: Record<string, unknown> = {};
  if (existsSync(path)) {
    try {
      fromFile = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
    } catch (e) {
      throw new InputError(`config ${path}: not valid JSON (${oneLine((e as Error).message)})`);
    }
    if (typeof fromFile !== 'object' || fromFile === null || Array.isArray(fromFile))
      throw new InputError(`config ${path}: expected a JSON object`);
    // "regions" may also be written as one comma-separated string, as in FLEET_REGIONS.
    if (typeof fromFile.regions === 'string')
      fromFile = {
        ...fromFile,
        regions: fromFile.regions
          .split(',')
          .map((r) => r.trim())
          .filter(Boolean),
      };
    try {
      config.load(fromFile);
    } catch (e) {
      throw new InputError(`config ${path}: ${oneLine(withoutLocationValues((e as Error).message))}`);
    }
  } else if (explicit !== undefined) {
    throw new InputError(`config ${path}: file not found`);
  }
  // FLEET_NAME is accepted as a friendlier spelling of FLEET_FLEET.
  const envOverrides: Record<string, unknown> = {};
  if (env.FLEET_NAME !== undefined && env.FLEET_FLEET === undefined) envOverrides.fleet = env.FLEET_NAME;
  config.load(envOverrides);
  try {
    config.validate({ allowed: 'strict' });
  } catch (e) {
    throw new InputError(`config${existsSync(path) ? ` ${path}` : ''}: ${oneLine(withoutLocationValues((e as Error).message))}`);
  }
  const base = existsSync(path) ? dirname(resolve(path)) : process.cwd();
  const fromEnv = (variable: string) => env[variable] !== undefined;
  const localPath = (value: string, variable: string) =>
    value === '' || /^(s3|https?):\/\//.test(value) || isAbsolute(value) ? value : resolve(fromEnv(variable) ? process.cwd() : base, value);
  const raw = config.getProperties() as FleetConfig;
  for (const key of ['manifest', 'desired'] as const) {
    if (isPlainHttp(raw[key]) && !raw.allowHttp) {
      throw new InputError(
        `config ${key}: ${redactLocation(raw[key])}: http:// is refused (it can be altered in transit); use https://, or set allowHttp (env FLEET_ALLOW_HTTP=true)`,
      );
    }
  }
  return {
    ...raw,
    manifest: localPath(raw.manifest, 'FLEET_MANIFEST'),
    desired: localPath(raw.desired, 'FLEET_DESIRED'),
    state: localPath(raw.state, 'FLEET_STATE'),
    policies: localPath(raw.policies, 'FLEET_POLICIES'),
  };
}

/** The inputs a command that reads the fleet needs; config check reports these too. */
export function requireInputs(config: FleetConfig): void {
  if (config.manifest === '') throw new InputError('config manifest: not set (s3://bucket/key, https://... or a file; env FLEET_MANIFEST)');
  if (config.desired === '') throw new InputError('config desired: not set (s3://bucket/key, https://... or a file; env FLEET_DESIRED)');
}

/** Convict repeats a bad value ("value was ..."): a location's is dropped, it may be a presigned URL. */
function withoutLocationValues(message: string): string {
  return message
    .split('\n')
    .map((line) => (/^\s*(manifest|desired|state|policies):/.test(line) ? line.replace(/: value was .*$/, '') : line))
    .join('\n');
}

function oneLine(message: string): string {
  return message
    .split('\n')
    .map((s) => s.trim())
    .filter(Boolean)
    .join('; ');
}
