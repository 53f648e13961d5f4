// Work on the workers (SPEC §5): fleet never terminates a worker the CI reports busy before its
// `fleet:retire` deadline, except on a drained image. A busy worker fleet wants gone is asked to
// leave (tagged with a deadline); it finishes its job and powers off, or fleet ends it at the deadline.

import type { Cause } from '../domain/causes.js';
import type { Departure, Member } from './ledger.js';
import type { PoolContext, Step } from './pool.js';

/** Whether the CI reports the member running a job (a pool whose document lists no busy workers has none). */
export const isBusy = (ctx: Pick<PoolContext, 'busy'>, m: Member): boolean => m.instance !== undefined && ctx.busy?.has(m.name) === true;

/** A drained image is broken: its workers end at once, busy or not. */
const NEVER_ASKED: ReadonlySet<Cause> = new Set<Cause>(['drain', 'guard']);

/** Whether a departure fleet chose becomes a request to leave rather than a termination. */
export function asksFirst(ctx: Pick<PoolContext, 'busy'>, member: Member, departure: Departure): boolean {
  return departure.terminate && isBusy(ctx, member) && member.instance?.retireAt === undefined && !NEVER_ASKED.has(departure.cause);
}

/** The same members, idle ones first (each part in its order). */
export function idleFirst(ctx: Pick<PoolContext, 'busy'>, members: readonly Member[]): Member[] {
  if (ctx.busy === undefined || ctx.busy.size === 0) return [...members];
  return [...members.filter((m) => !isBusy(ctx, m)), ...members.filter((m) => isBusy(ctx, m))];
}

/** A move that only saves money never puts a job at risk nor runs two workers while one finishes. */
export const mayMoveForMoney = (ctx: Pick<PoolContext, 'busy'>, m: Member): boolean => !isBusy(ctx, m);

/**
 * Workers already asked to leave no longer count (a replacement is launched where one is needed, a
 * pair of theirs closes). One the CI no longer reports busy, or past its deadline, is terminated
 * with the cause it was asked for; the others are waited for. A worker asked is never un-asked.
 */
export function retiringStep({ ctx, ledger, notes }: Step): void {
  let waiting = 0;
  let first = Number.POSITIVE_INFINITY;
  for (const m of ledger.staying()) {
    const at = m.instance?.retireAt;
    if (at === undefined) continue;
    // Asked by hand, or the cause tag is unreadable: it leaves as a surplus would.
    const cause = m.instance?.retireCause ?? 'scale-down';
    const asked = `asked to leave by ${new Date(at).toISOString()}`;
    if (ctx.now >= at) {
      ledger.leave(m, cause, `${asked}: deadline passed`, true, 'deadline');
    } else if (!isBusy(ctx, m)) {
      ledger.leave(m, cause, `${asked}: the CI no longer reports it busy`, true, 'not-busy');
    } else {
      ledger.leave(m, cause, `${asked}: finishing its job`, false);
      waiting++;
      first = Math.min(first, at);
    }
  }
  if (waiting > 0) notes.push(`${waiting} asked to leave finish their jobs; first deadline ${new Date(first).toISOString()}`);
}
