/** What answers by key, as a Map does: a memo, a Map, or a fixed answer in tests. */
export interface Lookup<A, T> {
  get(a: A): T;
}
