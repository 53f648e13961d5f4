// Slot names come from a template such as "bld-linux64-spot-{nnn}": the run of n's is the
// zero-padded width of the slot number. Free numbers are reused lowest first.

const NUMBER_PLACEHOLDER = /\{(n+)\}/;

export function isValidNameTemplate(template: string): boolean {
  const matches = template.match(/\{n+\}/g) ?? [];
  return matches.length === 1 && !/[{}]/.test(template.replace(NUMBER_PLACEHOLDER, ''));
}

export function formatName(template: string, slot: number): string {
  const parsed = parseTemplate(template);
  return parsed ? formatSlot(parsed, slot) : template;
}

/** A template read once, for callers that format or read many names of one template. */
interface ParsedTemplate {
  readonly prefix: string;
  readonly suffix: string;
  /** the zero-padded width of the slot number */
  readonly width: number;
}

function parseTemplate(template: string): ParsedTemplate | undefined {
  const match = NUMBER_PLACEHOLDER.exec(template);
  if (!match) return undefined;
  return {
    prefix: template.slice(0, match.index),
    suffix: template.slice(match.index + match[0].length),
    width: (match[1] as string).length,
  };
}

function formatSlot({ prefix, suffix, width }: ParsedTemplate, slot: number): string {
  return `${prefix}${String(slot).padStart(width, '0')}${suffix}`;
}

/** The slot number a name holds under this template, or undefined if it is not one of its names. */
export function slotOf(template: string, name: string): number | undefined {
  const match = NUMBER_PLACEHOLDER.exec(template);
  if (!match) return undefined;
  const prefix = template.slice(0, match.index);
  const suffix = template.slice(match.index + match[0].length);
  if (!name.startsWith(prefix) || !name.endsWith(suffix) || name.length <= prefix.length + suffix.length) return undefined;
  const digits = name.slice(prefix.length, name.length - suffix.length);
  return /^\d+$/.test(digits) ? Number(digits) : undefined;
}

/**
 * The `count` lowest free names, skipping every name in `taken`. The taken names are read as slot
 * numbers, so only the names handed out are formatted.
 */
export function allocateNames(template: string, taken: Iterable<string>, count: number): string[] {
  // Most pools launch nothing in most cycles: then no name needs reading.
  if (count <= 0) return [];
  const parsed = parseTemplate(template);
  const slots: number[] = [];
  if (parsed) {
    for (const name of taken) {
      const slot = exactSlot(parsed, name);
      if (slot !== undefined) slots.push(slot);
    }
  }
  // The names handed out are among the first slots.length + count: slots above cannot matter.
  const last = slots.length + count;
  const used = new Uint8Array(last + 1);
  for (const slot of slots) if (slot <= last) used[slot] = 1;
  const names: string[] = [];
  for (let slot = 1; names.length < count; slot++) if (used[slot] !== 1) names.push(parsed ? formatSlot(parsed, slot) : template);
  return names;
}

/** Most digits a slot read back may have: beyond, numbers lose precision (and no pool gets that far). */
const MAX_SLOT_DIGITS = 15;

/**
 * The slot whose formatted name `name` is exactly (`formatName(template, slot) === name`), or
 * undefined. "bld-1" is no slot of "bld-{nnn}": its slot 1 is "bld-001".
 */
function exactSlot({ prefix, suffix, width }: ParsedTemplate, name: string): number | undefined {
  const end = name.length - suffix.length;
  const digits = end - prefix.length;
  if (digits < width || digits > MAX_SLOT_DIGITS || !name.startsWith(prefix) || !name.endsWith(suffix)) return undefined;
  // Zero padding only up to the width: past it, a leading zero is not how the slot is written.
  if (digits > width && name.charCodeAt(prefix.length) === ZERO) return undefined;
  let slot = 0;
  for (let k = prefix.length; k < end; k++) {
    const digit = name.charCodeAt(k) - ZERO;
    if (digit < 0 || digit > 9) return undefined;
    slot = slot * 10 + digit;
  }
  return slot;
}

const ZERO = 48; // '0'

// A batched launch (MinCount/MaxCount) cannot give each instance its own Name tag at launch, so it
// carries one tag, fleet:names, naming every instance of the batch: the template, a space, and the
// slot numbers in launch-index order, written as comma-separated runs. "bld-linux64-spot-{nnn} 3-5,9"
// names bld-linux64-spot-003, -004, -005 and -009 for launch indexes 0, 1, 2 and 3. A worker reads
// it from its tags in metadata and picks the entry at its ami-launch-index.

/** Most names one tag may carry: far above any batch, low enough that a forged tag cannot exhaust memory. */
export const MAX_NAMES_PER_TAG = 10_000;

interface SlotRun {
  readonly first: number;
  readonly last: number;
}

/**
 * The fleet:names value for slots launched together, `slots` in launch-index order. Consecutive
 * ascending slots are written as one run ("3-5"), so the value is as short as the ranges form allows.
 * EC2 limits a tag value to 256 characters: a caller with scattered slots keeps its batches small.
 */
export function encodeNames(template: string, slots: readonly number[]): string {
  if (!isValidNameTemplate(template)) throw new RangeError(`names: ${JSON.stringify(template)} is not a name template`);
  if (slots.length === 0) throw new RangeError('names: a batch names at least one slot');
  const seen = new Set<number>();
  for (const slot of slots) {
    if (!Number.isSafeInteger(slot) || slot < 1) throw new RangeError(`names: slot ${slot} is not a positive integer`);
    if (seen.has(slot)) throw new RangeError(`names: slot ${slot} is listed twice`);
    seen.add(slot);
  }
  const runs: SlotRun[] = [];
  for (const slot of slots) {
    const last = runs[runs.length - 1];
    if (last && slot === last.last + 1) runs[runs.length - 1] = { first: last.first, last: slot };
    else runs.push({ first: slot, last: slot });
  }
  return `${template} ${runs.map((r) => (r.first === r.last ? `${r.first}` : `${r.first}-${r.last}`)).join(',')}`;
}

/** Every name a fleet:names value carries, in launch-index order. Throws a RangeError naming what is wrong. */
export function decodeNames(value: string): string[] {
  const { template, runs } = parseNames(value);
  return runs.flatMap((r) => Array.from({ length: r.last - r.first + 1 }, (_, k) => formatName(template, r.first + k)));
}

/** The name of the instance at `launchIndex` of a batch, or undefined when the batch is smaller. */
export function nameAtLaunchIndex(value: string, launchIndex: number): string | undefined {
  const { template, runs } = parseNames(value);
  let index = launchIndex;
  for (const run of runs) {
    const size = run.last - run.first + 1;
    if (index < size) return formatName(template, run.first + index);
    index -= size;
  }
  return undefined;
}

function parseNames(value: string): { template: string; runs: SlotRun[] } {
  const problem = (why: string) => new RangeError(`names ${JSON.stringify(value)}: ${why}`);
  const space = value.lastIndexOf(' ');
  if (space < 0) throw problem('expected a name template, a space and slot numbers');
  const template = value.slice(0, space);
  if (!isValidNameTemplate(template)) throw problem(`${JSON.stringify(template)} is not a name template`);
  const runs: SlotRun[] = [];
  let count = 0;
  for (const part of value.slice(space + 1).split(',')) {
    const match = /^(\d{1,15})(?:-(\d{1,15}))?$/.exec(part);
    if (!match) throw problem(`${JSON.stringify(part)} is not a slot number or a run such as 3-5`);
    const first = Number(match[1]);
    const last = match[2] === undefined ? first : Number(match[2]);
    if (first < 1 || last < first) throw problem(`${JSON.stringify(part)} is not an ascending run of positive slots`);
    count += last - first + 1;
    if (count > MAX_NAMES_PER_TAG) throw problem(`names more than ${MAX_NAMES_PER_TAG} slots`);
    runs.push({ first, last });
  }
  const sorted = [...runs].sort((a, b) => a.first - b.first);
  for (let k = 1; k < sorted.length; k++) {
    const [before, after] = [sorted[k - 1] as SlotRun, sorted[k] as SlotRun];
    if (after.first <= before.last) throw problem(`slot ${after.first} is listed twice`);
  }
  return { template, runs };
}
