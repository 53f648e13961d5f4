/**
 * `compute` remembered by key: within one plan an offer's price or score and an image's status never
 * change, so each is looked up once however many instances share it. Each pool's planning makes its
 * own memos, so plan() stays pure: nothing outlives the call.
 */
export function memoize<A, T>(keyOf: (a: A) => string, compute: (a: A) => T): (a: A) => T {
  const known = new Map<string, T>();
  return (a) => {
    const key = keyOf(a);
    // One lookup where the answer is known and defined, the usual case.
    const value = known.get(key);
    if (value !== undefined || known.has(key)) return value as T;
    const computed = compute(a);
    known.set(key, computed);
    return computed;
  };
}

/** As `memoize`, keyed by two strings kept apart (no joined key to build on every call, where calls are many). */
export function memoizeByTwo<A, T>(outerOf: (a: A) => string, innerOf: (a: A) => string, compute: (a: A) => T): (a: A) => T {
  const known = new Map<string, Map<string, T>>();
  return (a) => {
    const outer = outerOf(a);
    let inner = known.get(outer);
    if (inner === undefined) {
      inner = new Map();
      known.set(outer, inner);
    }
    const key = innerOf(a);
    const value = inner.get(key);
    if (value !== undefined || inner.has(key)) return value as T;
    const computed = compute(a);
    inner.set(key, computed);
    return computed;
  };
}
