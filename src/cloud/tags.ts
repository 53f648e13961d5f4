import { type Cause, isCause } from '../domain/causes.js';
import { CAUSE_TAG, MANAGED_BY_TAG, NAMES_TAG, POOL_TAG, REPLACES_TAG, RETIRE_CAUSE_TAG, RETIRE_TAG } from '../domain/tags.js';
import { encodeNames, formatName, nameAtLaunchIndex, slotOf } from '../policy/names.js';
import type { LaunchRequest, LaunchSlot } from './port.js';

// How a launch call's slots travel in its tags. Both clouds (the AWS adapter and the simulator) tag
// and read instances through this one module. A batch's `fleet:replaces` holds one instance id per
// launch index ('-' for none); its `fleet:cause` holds each replacement's cause, or one cause for all.

export { CAUSE_TAG, MANAGED_BY_TAG, NAMES_TAG, POOL_TAG, REPLACES_TAG, RETIRE_CAUSE_TAG, RETIRE_TAG };

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
  const encoded = r.slots.length > 1 ? namesValue(template, names) : undefined;
  if (r.slots.length === 1) tags.Name = names[0] as string;
  if (encoded !== undefined) tags[NAMES_TAG] = encoded;
  const replaces = replacesValue(r.slots);
  if (replaces !== undefined) tags[REPLACES_TAG] = replaces;
  const causes = causesValue(r.slots);
  if (causes !== undefined) tags[CAUSE_TAG] = causes;
  return tags;
}

/** The `fleet:names` value of a batch, or undefined when a name is not one of the template's slots. */
function namesValue(template: string, names: readonly string[]): string | undefined {
  const slots = names.map((name) => slotOf(template, name));
  if (slots.some((slot, n) => slot === undefined || formatName(template, slot) !== names[n]) || new Set(slots).size !== slots.length)
    return undefined;
  return encodeNames(template, slots as number[]);
}

function replacesValue(slots: readonly LaunchSlot[]): string | undefined {
  if (!slots.some((s) => s.replaces !== undefined)) return undefined;
  return slots.map((s) => s.replaces ?? '-').join(' ');
}

/** Written for replacements only: while a pair is in flight, its budget follows from its cause. */
function causesValue(slots: readonly LaunchSlot[]): string | undefined {
  if (!slots.some((s) => s.replaces !== undefined && s.cause !== undefined)) return undefined;
  const causes = slots.map((s) => s.cause ?? '-');
  return new Set(causes).size === 1 ? causes[0] : causes.join(' ');
}

/** Whether a batch's slots can travel in its tags within EC2's limits (the executor splits those that cannot). */
export function tagsFit(r: Pick<LaunchRequest, 'fleet' | 'pool' | 'slots'>, template: string): boolean {
  if (
    r.slots.length > 1 &&
    namesValue(
      template,
      r.slots.map((s) => s.name),
    ) === undefined
  )
    return false;
  return Object.values(launchTags(r, template)).every((v) => v.length <= TAG_VALUE_MAX);
}

/** The slot an instance holds, from its tags and launch index: `Name` wins, then the batch's list. */
export function slotFromTags(
  tags: Readonly<Record<string, string | undefined>>,
  launchIndex: number | undefined,
): { name: string; replaces?: string; cause?: Cause } {
  const index = launchIndex ?? 0;
  const fromBatch = tags[NAMES_TAG] !== undefined ? batchName(tags[NAMES_TAG], index) : undefined;
  const name = tags.Name ?? fromBatch ?? '';
  const listed = tags[REPLACES_TAG]?.split(' ');
  const replaces = listed === undefined ? undefined : listed.length === 1 ? listed[0] : listed[index];
  const causes = tags[CAUSE_TAG]?.split(' ');
  const cause = causes === undefined ? undefined : causes.length === 1 ? causes[0] : causes[index];
  return {
    name,
    ...(replaces !== undefined && replaces !== '-' && replaces !== '' ? { replaces } : {}),
    ...(isCause(cause) ? { cause } : {}),
  };
}

/**
 * Whether an instance still needs its `Name` tag: it has none, and its name comes from the batch's
 * `fleet:names` (a tag fleet did not write names nobody, and is left alone).
 */
export function lacksNameTag(tags: Readonly<Record<string, string | undefined>>, launchIndex: number | undefined): boolean {
  return tags.Name === undefined && tags[NAMES_TAG] !== undefined && batchName(tags[NAMES_TAG], launchIndex ?? 0) !== undefined;
}

function batchName(value: string, launchIndex: number): string | undefined {
  try {
    return nameAtLaunchIndex(value, launchIndex);
  } catch {
    return undefined; // a tag not written by fleet: no name from it
  }
}

/** The tags that ask a worker to leave by `deadline` (epoch ms), and why. */
export function retireTags(deadline: number, cause: Cause): Record<string, string> {
  return { [RETIRE_TAG]: new Date(deadline).toISOString().replace(/\.\d{3}Z$/, 'Z'), [RETIRE_CAUSE_TAG]: cause };
}

/** Whether fleet asked the instance to leave, by when and why; a deadline that is no date is no request. */
export function retireFromTags(tags: Readonly<Record<string, string | undefined>>): { retireAt?: number; retireCause?: Cause } {
  const deadline = tags[RETIRE_TAG];
  const at = deadline === undefined ? Number.NaN : Date.parse(deadline);
  if (!Number.isFinite(at)) return {};
  const cause = tags[RETIRE_CAUSE_TAG];
  return { retireAt: at, ...(isCause(cause) ? { retireCause: cause } : {}) };
}
