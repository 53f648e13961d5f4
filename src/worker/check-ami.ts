import type { Logger } from 'pino';
import { bounded, boundedConfig } from '../cloud/aws/bounded.js';
import { S3Objects, s3Client } from '../cloud/aws/s3.js';
import { anySignal, bounds, deadlineSignal } from '../cloud/bounds.js';
import { CloudError } from '../cloud/errors.js';
import { processShutdown } from '../cloud/shutdown.js';
import type { FleetConfig } from '../config/config.js';
import { parsePolicy } from '../config/policy-schema.js';
import type { PoolPolicy } from '../domain/policy.js';
import { ImageIndex } from '../policy/images.js';
import { rememberedElsewhere, rolloutOf } from '../policy/rollout.js';
import { type Verdict, imageVerdict } from '../policy/verdict.js';
import { manifestInput } from '../shared/inputs.js';
import { DRAINED_DOC, IMAGES_DOC, drainedAmis, establishedOf, readDrained as readDrainedDoc } from '../shared/worker-docs.js';
import { type StateStore, openStateStore, readOnlyStateStore } from '../shared/state-store.js';
import { Imds, metadataEndpoint } from './imds.js';
import { type WorkerIdentity, noPoolReason, readWorkerIdentity } from './identity.js';

/** What `fleet check-ami` found: the fields of its --json output, and notes for the boot log line. */
export interface CheckAmiResult {
  readonly instanceId: string | null;
  readonly ami: string | null;
  readonly pool: string | null;
  readonly region: string | null;
  readonly verdict: Verdict;
  readonly reason: string;
  readonly name: string | null;
  /** where the pool came from and which inputs were stale: for the text line only */
  readonly notes: readonly string[];
}

/**
 * The worker's boot check: who am I (instance metadata), and would fleet launch my image for my
 * pool and region now (the manifest, the drained marks and the proved images the service publishes,
 * read as the service reads them). Reads only: no EC2 call, and nothing is written to the state store. Every failure to find out is an
 * `unknown` verdict, never an exception, except configuration errors (InputError).
 */
export async function checkAmi(
  config: FleetConfig,
  log: Logger,
  env: NodeJS.ProcessEnv = process.env,
  policies: readonly PoolPolicy[] = [],
): Promise<CheckAmiResult> {
  const endpoint = await metadataEndpoint(env);
  let identity: WorkerIdentity | undefined;
  // A worker's boot waits on this command: one deadline for all of it, and S3 gets a few quick
  // tries, never the service's long waits (docs/bounds.md).
  const limits = bounds(env);
  const deadline = anySignal([
    processShutdown.signal,
    deadlineSignal(limits.checkAmiMs, new CloudError('transient', 'DeadlineExceeded', `no verdict within ${limits.checkAmiMs / 1000} s`)),
  ]);
  const s3Limits = { service: 'S3', bounds: limits.bootS3, abort: () => deadline, log };
  // S3 in the worker's own region unless the environment names one; the provider is asked at the
  // first S3 call, after the metadata has been read.
  const region = async () => env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? identity?.region ?? 'us-east-1';
  const objects = new S3Objects(
    bounded(s3Client(env, { maxAttempts: limits.bootS3.attempts, ...boundedConfig(s3Limits), region }), s3Limits),
  );
  // Opened before anything is read, so that a bad state location is a configuration error (exit 2).
  const state = readOnlyStateStore(openStateStore(config.state, objects));

  if (endpoint === undefined) return cannotTell(undefined, 'instance metadata is disabled (AWS_EC2_METADATA_DISABLED)');
  try {
    identity = await readWorkerIdentity(new Imds({ endpoint, ...limits.imds, signal: deadline }));
  } catch (e) {
    return cannotTell(undefined, `cannot read instance metadata at ${endpoint}: ${(e as Error).message}`);
  }
  if (identity.pool === undefined) return cannotTell(identity, noPoolReason(identity));
  const { pool } = identity;
  const notes = [`pool from ${identity.poolFrom}`];

  const [manifest, drained, established] = await Promise.all([
    manifestInput(config, objects, state, log, Date.now).read(),
    readDrained(state),
    readEstablished(state),
  ]);
  if (manifest.value === undefined)
    return cannotTell(identity, `the manifest is unreadable and no last good copy exists (${manifest.problem})`, notes);
  if (manifest.source === 'last-good') notes.push(`manifest: the last good copy (${manifest.problem})`);
  if (typeof drained === 'string') return cannotTell(identity, `the drained marks are unreadable (${drained})`, notes);
  if (typeof established === 'string') return cannotTell(identity, `the proved images are unreadable (${established})`, notes);

  // The planner's own rule: the rollout of this pool and region, from what the service remembers of
  // which images proved themselves (a worker cannot list the fleet; the service publishes the proofs).
  const policy =
    policies.find((p) => p.pool === pool) ??
    parsePolicy({ pool, instanceTypes: ['c5.large'], regions: { [identity.region]: { subnets: ['subnet-0'] } } }, 'defaults');
  const images = new ImageIndex(manifest.value, drained);
  const provedElsewhere = rememberedElsewhere(established, pool, identity.region);
  const rollout = rolloutOf({
    policy,
    region: identity.region,
    images,
    established,
    instances: [],
    pending: [],
    now: Date.now(),
    provedElsewhere,
  });
  const { verdict, reason } = imageVerdict(identity.ami, rollout, images);
  return { ...fields(identity), verdict, reason, notes };
}

/**
 * Which images proved themselves, as the service publishes them for workers (none before its first
 * cycle), or why that cannot be read. The service's journal is not read: workers are not granted it.
 */
async function readEstablished(state: StateStore): Promise<Readonly<Record<string, number>> | string> {
  try {
    const doc = await state.read<unknown>(IMAGES_DOC);
    return doc === undefined ? {} : establishedOf(doc.doc);
  } catch (e) {
    return `${IMAGES_DOC} in ${state.where}: ${(e as Error).message}`;
  }
}

/** The drained AMIs, or why they cannot be read. */
async function readDrained(state: StateStore): Promise<ReadonlySet<string> | string> {
  try {
    return drainedAmis((await readDrainedDoc(state))?.doc);
  } catch (e) {
    return `${DRAINED_DOC} in ${state.where}: ${(e as Error).message}`;
  }
}

function cannotTell(identity: WorkerIdentity | undefined, reason: string, notes: readonly string[] = []): CheckAmiResult {
  return { ...fields(identity), verdict: 'unknown', reason, notes };
}

function fields(identity: WorkerIdentity | undefined): Pick<CheckAmiResult, 'instanceId' | 'ami' | 'pool' | 'region' | 'name'> {
  return {
    instanceId: identity?.instanceId ?? null,
    ami: identity?.ami ?? null,
    pool: identity?.pool ?? null,
    region: identity?.region ?? null,
    name: identity?.name ?? null,
  };
}
