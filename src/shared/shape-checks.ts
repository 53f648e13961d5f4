// Shape checks of state documents as read: each says what is wrong, or undefined when usable.

export const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
export const isTime = (v: unknown): boolean => typeof v === 'number' && Number.isFinite(v);

/** `value` is an object whose every entry passes `entry` (which says what is wrong with it). */
export function recordProblem(field: string, value: unknown, entry: (v: unknown) => string | undefined): string | undefined {
  if (!isRecord(value)) return `${field}: expected an object`;
  for (const [key, v] of Object.entries(value)) {
    const wrong = entry(v);
    if (wrong !== undefined) return `${field}.${key}: ${wrong}`;
  }
  return undefined;
}

export const timeProblem = (v: unknown) => (isTime(v) ? undefined : 'expected a time in epoch ms');
