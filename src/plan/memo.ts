import type { Lookup } from '../domain/lookup.js';

/**
 * `compute` remembered by key: within one plan an offer's price or score and an image's status never
 * change, so each is looked up once however many instances share it. Each pool's planning makes its
 * own memos, so plan() stays pure: nothing outlives the call.
 */
export class Memo<A, T> implements Lookup<A, T> {
  private readonly known = new Map<string, T>();

  constructor(
    private readonly keyOf: (a: A) => string,
    private readonly compute: (a: A) => T,
  ) {}

  get(a: A): T {
    const key = this.keyOf(a);
    if (this.known.has(key)) return this.known.get(key) as T;
    const computed = this.compute(a);
    this.known.set(key, computed);
    return computed;
  }
}
