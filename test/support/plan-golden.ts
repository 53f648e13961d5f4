// A large generated snapshot and the plan fleet made of it, kept as a fixture
// (test/fixtures/plan-golden.json) so that a change in any decision shows up: a faster planner
// must decide exactly the same. The snapshot is the scale bench's generator (12 pools × 3 regions,
// 2,400 instances, outdated and drained images, rollouts, ended instances, pending launches,
// replacement pairs) with EC2 events, interruptions, resendable launches and a shrinking pool added.
// Regenerate only on purpose, when a decision is meant to change:
//   node --import tsx test/support/plan-golden.ts --write

import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { scaleWorld } from '../../bench/scale/snapshot.js';
import type { Action } from '../../src/domain/actions.js';
import type { PoolPolicy } from '../../src/domain/policy.js';
import type { Snapshot } from '../../src/domain/snapshot.js';
import { type Instance, offerKey } from '../../src/domain/types.js';
import { applyGuard } from '../../src/plan/guard.js';
import { type Plan, plan } from '../../src/plan/plan.js';

export const GOLDEN_FIXTURE = fileURLToPath(new URL('../fixtures/plan-golden.json', import.meta.url));

export interface GoldenPlan {
  /** every action in the plan's order, one line each: kind, cause, name, instance, offer, image, pair, resend, reason */
  readonly actions: readonly string[];
  /** each pool's report, one JSON document per line */
  readonly pools: readonly string[];
  /** a digest of the whole plan (actions, timers, journal facts, reports) */
  readonly digest: string;
}

/** The snapshot and policies the fixture was planned from: deterministic. */
export function goldenWorld(): { snapshot: Snapshot; policies: PoolPolicy[] } {
  const world = scaleWorld(2_400, 12, 7);
  const base = world.snapshot;
  const running = base.instances.filter((i) => i.state === 'running' && i.lifecycle === 'spot' && !i.replaces);
  // Every 40th running spot instance warned of an interruption, every 40th (offset) recommended for rebalancing.
  const warned = Object.fromEntries(running.filter((_, n) => n % 40 === 0).map((i) => [i.id, { at: base.now - 30_000, region: i.region }]));
  const rebalance = Object.fromEntries(
    running.filter((_, n) => n % 40 === 20).map((i) => [i.id, { at: base.now - 60_000, region: i.region }]),
  );
  const interruptions = Object.fromEntries(
    running.filter((_, n) => n % 97 === 0).map((i) => [offerKey(i), [base.now - 3_600_000, base.now - 600_000]]),
  );
  // A new image an hour old, not yet running anywhere, in three pool-regions: its canaries go first.
  const fresh = [
    ['pool-01', 'eu-central-1'],
    ['pool-07', 'eu-central-1'],
    ['pool-10', 'us-west-2'],
  ].map(([pool, region]) => ({
    id: `ami-${pool}-${region}-fresh`,
    pool: pool as string,
    region: region as string,
    created: base.now - 3_600_000,
    name: `${pool}-fresh`,
  }));
  // Three pool-regions crowded into one offer (zone × type): spread repair moves workers out of it.
  const crowded = new Set(['pool-01 us-east-1', 'pool-04 us-west-2', 'pool-07 us-east-1']);
  const firstType = new Map(world.policies.map((p) => [p.pool, p.instanceTypes[0]?.type as string]));
  const crowd = (i: Instance): Instance =>
    crowded.has(`${i.pool} ${i.region}`)
      ? { ...i, az: `${i.region}a`, subnetId: `subnet-${i.region.replace(/-/g, '')}a`, instanceType: firstType.get(i.pool) as string }
      : i;
  const snapshot: Snapshot = {
    ...base,
    instances: base.instances.map(crowd),
    images: [...(base.images ?? []), ...fresh],
    // One pool in three shrinks by a third, pool-04 and pool-07 to 40%: past their outdated and on-demand workers.
    desired: Object.fromEntries(
      Object.entries(base.desired ?? {}).map(([pool, n], k) => [
        pool,
        Math.round(n * (pool === 'pool-04' || pool === 'pool-07' ? 0.4 : k % 3 === 1 ? 0.66 : 1)),
      ]),
    ),
    // Half of the journal's launches went unanswered and may be re-sent.
    pendingLaunches: base.pendingLaunches.map((p, n) => (n % 2 === 0 ? { ...p, resendable: true } : p)),
    events: { warned, rebalance },
    interruptions,
    unavailable: { [offerKey({ az: 'us-east-1b', instanceType: 'c5.xlarge', lifecycle: 'spot' })]: base.now + 60_000 },
  };
  // pool-01 holds at most 10 workers per offer: its crowded offer sheds, then spreads again.
  const policies = world.policies.map((p) => (p.pool === 'pool-01' ? { ...p, spread: { kind: 'count' as const, value: 10 } } : p));
  return { snapshot, policies };
}

/** The plan of the golden world, as the service makes it: the launch guard, then plan(). */
export function goldenPlan(): GoldenPlan {
  const { snapshot, policies } = goldenWorld();
  return summarise(plan(applyGuard(snapshot, policies).snapshot, policies, 'golden'));
}

function actionLine(a: Action): string {
  const pair = a.kind === 'launch' ? [a.replaces ? `replaces ${a.replaces}` : '', a.resumes ? `resumes ${a.resumes}` : ''] : [a.instanceId];
  return [a.kind, a.cause, a.name, ...pair, `${a.az} ${a.instanceType} ${a.lifecycle}`, a.ami, `$${a.price ?? '-'}`, a.reason]
    .filter((part) => part !== '')
    .join(' | ');
}

export function summarise(p: Plan): GoldenPlan {
  return {
    actions: p.actions.map(actionLine),
    pools: p.pools.map((r) => JSON.stringify(r)),
    digest: createHash('sha256').update(JSON.stringify(p)).digest('hex'),
  };
}

if (import.meta.url === `file://${process.argv[1]}` && process.argv.includes('--write')) {
  const golden = goldenPlan();
  writeFileSync(GOLDEN_FIXTURE, `${JSON.stringify(golden, null, 1)}\n`);
  console.log(`${golden.actions.length} actions, ${golden.pools.length} pools: written ${GOLDEN_FIXTURE}`);
}
