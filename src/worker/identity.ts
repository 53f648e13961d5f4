import { NAMES_TAG, NAME_TAG, POOL_TAG } from '../domain/tags.js';
import { nameAtLaunchIndex } from '../policy/names.js';
import { type Imds, ImdsUnavailable } from './imds.js';
import { LEGACY_POOL_KEY, poolFromUserData } from './user-data.js';

/** Who this worker is, from its instance metadata alone (no EC2 API call). */
export interface WorkerIdentity {
  readonly instanceId: string;
  readonly ami: string;
  readonly region: string;
  /** undefined when neither the fleet:pool tag nor user data names one */
  readonly pool?: string;
  readonly poolFrom?: 'tag' | 'user data';
  /** the slot name: tag Name, or this instance's entry in fleet:names */
  readonly name?: string;
  /** false when the instance does not expose its tags in metadata */
  readonly tagsInMetadata: boolean;
}

const WANTED_TAGS = [POOL_TAG, NAME_TAG, NAMES_TAG] as const;

/** Read the worker's identity; throws ImdsUnavailable when metadata cannot say who it is. */
export async function readWorkerIdentity(imds: Imds): Promise<WorkerIdentity> {
  const [instanceId, ami, launchIndex, region] = await Promise.all([
    required(imds, 'instance-id'),
    required(imds, 'ami-id'),
    imds.metaData('ami-launch-index'),
    readRegion(imds),
  ]);
  const tags = await readTags(imds);
  const tagged = nonEmpty(tags?.[POOL_TAG]);
  // User data is read only when the tag is missing: it may hold secrets, and it is never kept or shown.
  const legacy =
    tagged === undefined ? await imds.userData().then((text) => (text === undefined ? undefined : poolFromUserData(text))) : undefined;
  const pool = tagged ?? legacy;
  const name = nonEmpty(tags?.[NAME_TAG]) ?? nameFromBatch(tags?.[NAMES_TAG], launchIndex);
  return {
    instanceId,
    ami,
    region,
    ...(pool !== undefined ? { pool, poolFrom: tagged !== undefined ? 'tag' : 'user data' } : {}),
    ...(name !== undefined ? { name } : {}),
    tagsInMetadata: tags !== undefined,
  };
}

/** Why no pool could be found, for the boot log. */
export function noPoolReason(identity: WorkerIdentity): string {
  const tags = identity.tagsInMetadata ? `no ${POOL_TAG} tag` : `instance tags are not in metadata (no ${POOL_TAG} tag readable)`;
  return `${tags} and no ${LEGACY_POOL_KEY} in YAML user data: the pool is unknown`;
}

/**
 * The region a zone belongs to: "us-east-1a" → "us-east-1", and for Local and Wavelength Zones
 * ("us-west-2-lax-1a") the parent region rather than the zone minus its letter.
 */
export function regionOfZone(zone: string): string | undefined {
  return /^[a-z]{2}(?:-[a-z]+)+-\d+/.exec(zone)?.[0];
}

async function readRegion(imds: Imds): Promise<string> {
  const region = nonEmpty(await imds.metaData('placement/region'));
  if (region !== undefined) return region;
  const zone = await required(imds, 'placement/availability-zone');
  const fromZone = regionOfZone(zone);
  if (fromZone === undefined) throw new ImdsUnavailable(`placement/availability-zone ${JSON.stringify(zone)} names no region`);
  return fromZone;
}

/** The wanted tags of this instance, or undefined when its tags are not exposed in metadata. */
async function readTags(imds: Imds): Promise<Record<string, string> | undefined> {
  const listing = await imds.metaData('tags/instance');
  if (listing === undefined) return undefined;
  const keys = new Set(listing.split('\n').map((k) => k.trim()));
  const tags: Record<string, string> = {};
  for (const key of WANTED_TAGS) {
    if (!keys.has(key)) continue;
    const value = await imds.metaData(`tags/instance/${key}`);
    if (value !== undefined) tags[key] = value;
  }
  return tags;
}

function nameFromBatch(value: string | undefined, launchIndex: string | undefined): string | undefined {
  if (value === undefined || launchIndex === undefined || !/^\d+$/.test(launchIndex.trim())) return undefined;
  try {
    return nameAtLaunchIndex(value, Number(launchIndex.trim()));
  } catch {
    return undefined; // a malformed tag leaves the worker nameless, not unable to check its image
  }
}

async function required(imds: Imds, path: string): Promise<string> {
  const value = nonEmpty(await imds.metaData(path));
  if (value === undefined) throw new ImdsUnavailable(`${path} is missing from instance metadata`);
  return value;
}

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed === undefined || trimmed === '' ? undefined : trimmed;
}
