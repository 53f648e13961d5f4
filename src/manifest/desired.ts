import { InputError } from '../domain/errors.js';
import { jsonSyntaxProblem } from './json-syntax.js';

/** Desired counts: `{"bld-linux64": 12}`. Every value must be a non-negative integer. */
export function parseDesired(text: string): Record<string, number> {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new InputError(`desired counts: not JSON (${jsonSyntaxProblem(e)})`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    throw new InputError('desired counts: expected an object of pool → count');
  }
  for (const [pool, count] of Object.entries(doc)) {
    if (typeof count !== 'number' || !Number.isInteger(count) || count < 0) {
      throw new InputError(`desired counts: ${JSON.stringify(pool)} must be a non-negative integer (got ${JSON.stringify(count)})`);
    }
  }
  // fromEntries defines own properties: a key such as "__proto__" stays a key, never a prototype.
  return Object.fromEntries(Object.entries(doc)) as Record<string, number>;
}
