/**
 * Objects kept for the life of the process so that V8 keeps their shapes.
 *
 * V8 gives an object a hidden class (its shape), and optimized code is built for those shapes. A
 * class instance's shape, reached by adding its fields one by one, lives only while some object has
 * it. The planner's working objects (ledgers, price books, image indexes, memos) all die when plan()
 * returns, and the full collection that usually runs in the minute between two cycles then drops
 * their shapes and, with them, every piece of optimized code that relied on one: the next plan runs
 * in the interpreter while it is compiled again. One small example of each kind, never changed and
 * never read, keeps each shape (and so the code) alive. See bench/plan-time.ts for the effect.
 */
const kept: object[] = [];

/** Keeps `example` alive for the life of the process; returns nothing, as it is never to be used. */
export function keepShape(example: object): void {
  kept.push(example);
}
