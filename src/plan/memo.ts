import type { Lookup } from '../domain/lookup.js';
import { keepShape } from '../domain/shapes.js';

/**
 * `compute` remembered by key: within one plan an offer's price or score and an image's status never
 * change, so each is looked up once however many instances share it. Each pool's planning makes its
 * own memos, so plan() stays pure: nothing outlives the call.
 * A class, not a closure made per pool: V8 keeps a method's optimized code for the life of the
 * process, but a closure's only while that closure lives (until the next full collection).
 */
export class Memo<A, T> implements Lookup<A, T> {
  private readonly known = new Map<string, T>();

  constructor(
    private readonly keyOf: (a: A) => string,
    private readonly compute: (a: A) => T,
  ) {}

  get(a: A): T {
    const key = this.keyOf(a);
    // One lookup where the answer is known and defined, the usual case.
    const value = this.known.get(key);
    if (value !== undefined || this.known.has(key)) return value as T;
    const computed = this.compute(a);
    this.known.set(key, computed);
    return computed;
  }
}

/** As `Memo`, keyed by two strings kept apart (no joined key to build on every call, where calls are many). */
export class MemoByTwo<A, T> implements Lookup<A, T> {
  private readonly known = new Map<string, Map<string, T>>();

  constructor(
    private readonly outerOf: (a: A) => string,
    private readonly innerOf: (a: A) => string,
    private readonly compute: (a: A) => T,
  ) {}

  get(a: A): T {
    const outer = this.outerOf(a);
    let inner = this.known.get(outer);
    if (inner === undefined) {
      inner = new Map();
      this.known.set(outer, inner);
    }
    const key = this.innerOf(a);
    const value = inner.get(key);
    if (value !== undefined || inner.has(key)) return value as T;
    const computed = this.compute(a);
    inner.set(key, computed);
    return computed;
  }
}

keepShape(new Memo(String, String));
keepShape(new MemoByTwo(String, String, String));
