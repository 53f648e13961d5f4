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
