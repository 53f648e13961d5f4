import type { LaunchRequest, LaunchSlot } from './port.js';
import { decodeNames, encodeNames } from '../policy/names.js';

// The tags fleet writes, and how a batch's per-instance slots travel in them. Both clouds (the AWS
// adapter and the simulator) tag and read instances through this one module.

export const MANAGED_BY_TAG = 'fleet:managed-by';
export const POOL_TAG = 'fleet:pool';
/** the instance a replacement replaces; for a batch, one id per launch index ('-' for none) */
export const REPLACES_TAG = 'fleet:replaces';
/** a batch's slot names in launch-index order (see encodeNames) */
export const NAMES_TAG = 'fleet:names';

/** EC2's limit on a tag value. */
export const TAG_VALUE_MAX = 256;

/**
 * Tags written at launch on every instance and volume of the call. A single-slot call carries its
 * `Name` at once; a batch carries its slots in `fleet:names` (and `fleet:replaces`), and `Name` is set
 * on each instance right after the launch (see nameInstances).
 */
export function launchTags(r: Pick<LaunchRequest, 'fleet' | 'pool' | 'slots'>, template: string): Record<string, string> {
  const tags: Record<string, string> = { [MANAGED_BY_TAG]: r.fleet, [POOL_TAG]: r.pool };
  const names = r.slots.map((s) => s.name);
  const encoded = r.slots.length > 1 ? encodeNames(template, names) : undefined;
  if (r.slots.length === 1) tags.Name = names[0] as string;
  if (encoded !== undefined) tags[NAMES_TAG] = encoded;
  const replaces = replacesValue(r.slots);
  if (replaces !== undefined) tags[REPLACES_TAG] = replaces;
  return tags;
}

function replacesValue(slots: readonly LaunchSlot[]): string | undefined {
  if (!slots.some((s) => s.replaces !== undefined)) return undefined;
  return slots.map((s) => s.replaces ?? '-').join(' ');
}

/** Whether a batch's slots can travel in its tags within EC2's limits (the executor splits those that cannot). */
export function tagsFit(r: Pick<LaunchRequest, 'fleet' | 'pool' | 'slots'>, template: string): boolean {
  if (r.slots.length > 1 && encodeNames(template, r.slots.map((s) => s.name)) === undefined) return false;
  return Object.values(launchTags(r, template)).every((v) => v.length <= TAG_VALUE_MAX);
}

/** The slot an instance holds, from its tags and launch index: `Name` wins, then the batch's list. */
export function slotFromTags(tags: Readonly<Record<string, string | undefined>>, launchIndex: number | undefined): { name: string; replaces?: string } {
  const index = launchIndex ?? 0;
  const fromBatch = tags[NAMES_TAG] !== undefined ? decodeNames(tags[NAMES_TAG] as string)?.[index] : undefined;
  const name = tags.Name ?? fromBatch ?? '';
  const listed = tags[REPLACES_TAG]?.split(' ');
  const replaces = listed === undefined ? undefined : listed.length === 1 ? listed[0] : listed[index];
  return { name, ...(replaces !== undefined && replaces !== '-' && replaces !== '' ? { replaces } : {}) };
}
