// Slot names come from a template such as "bld-linux64-spot-{nnn}": the run of n's is the
// zero-padded width of the slot number. Free numbers are reused lowest first.

const NUMBER_PLACEHOLDER = /\{(n+)\}/;

export function isValidNameTemplate(template: string): boolean {
  const matches = template.match(/\{n+\}/g) ?? [];
  return matches.length === 1 && !/[{}]/.test(template.replace(NUMBER_PLACEHOLDER, ''));
}

export function formatName(template: string, slot: number): string {
  return template.replace(NUMBER_PLACEHOLDER, (_, ns: string) => String(slot).padStart(ns.length, '0'));
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

/** The `count` lowest free names, skipping every name in `taken`. */
export function allocateNames(template: string, taken: ReadonlySet<string>, count: number): string[] {
  const names: string[] = [];
  for (let slot = 1; names.length < count; slot++) {
    const name = formatName(template, slot);
    if (!taken.has(name)) names.push(name);
  }
  return names;
}

/**
 * A batch's slot names in one short tag value, in launch-index order: the template, a space, and the
 * slot numbers with runs of consecutive numbers written as ranges: `bld-linux64-spot-{nnn} 3-5,9`
 * holds bld-linux64-spot-003, -004, -005 and -009. A worker reads its own with its `ami-launch-index`.
 * Undefined when a name is not one of the template's.
 */
export function encodeNames(template: string, names: readonly string[]): string | undefined {
  const slots: number[] = [];
  for (const name of names) {
    const slot = slotOf(template, name);
    if (slot === undefined || formatName(template, slot) !== name) return undefined;
    slots.push(slot);
  }
  const runs: string[] = [];
  for (let i = 0; i < slots.length; ) {
    let j = i;
    while (j + 1 < slots.length && (slots[j + 1] as number) === (slots[j] as number) + 1) j++;
    runs.push(j > i ? `${slots[i]}-${slots[j]}` : `${slots[i]}`);
    i = j + 1;
  }
  return `${template} ${runs.join(',')}`;
}

/** The names an encodeNames() value holds, in launch-index order; undefined when it is not one. */
export function decodeNames(value: string): string[] | undefined {
  const space = value.lastIndexOf(' ');
  if (space < 0) return undefined;
  const template = value.slice(0, space);
  if (!isValidNameTemplate(template)) return undefined;
  const names: string[] = [];
  for (const run of value.slice(space + 1).split(',')) {
    const match = /^(\d+)(?:-(\d+))?$/.exec(run);
    if (!match) return undefined;
    const from = Number(match[1]);
    const to = match[2] === undefined ? from : Number(match[2]);
    // A run is at most a bucket's worth of instances: a corrupt value must not expand without end.
    if (to < from || to - from > 10_000) return undefined;
    for (let slot = from; slot <= to; slot++) names.push(formatName(template, slot));
  }
  return names;
}
