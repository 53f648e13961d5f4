// The soak's judge: after every cycle it reads the simulated cloud's own state (the world's
// instances and events, the EC2 call log, S3 documents as stored) and runs every invariant checker
// on it. It never asks fleet what it believes.

import type { PoolPolicy } from '../../domain/policy.js';
import { resolveBudget } from '../../domain/policy.js';
import type { Image } from '../../domain/types.js';
import { desiredSize } from '../../plan/plan.js';
import type { SimCloud } from '../cloud.js';
import type { SimCall } from '../ec2.js';
import type { SimInstance } from '../world.js';
import type { FaultWindows } from './chaos.js';
import type { SoakInputs } from './inputs.js';
import { checkBadManifestRetirements } from './invariants/bad-manifest.js';
import { type CycleEnd, checkCycleErrors } from './invariants/cycle-errors.js';
import { checkDrainedLaunches, drainedAt } from './invariants/drained-launch.js';
import { checkGrowth } from './invariants/growth.js';
import { checkJournal } from './invariants/journal.js';
import { checkUniqueNames } from './invariants/names.js';
import { checkOwnership } from './invariants/ownership.js';
import { type LiveChange, checkPoolMax } from './invariants/pool-max.js';
import { checkResends } from './invariants/resend.js';
import { checkRunningCapacity } from './invariants/running-capacity.js';
import { checkSpread } from './invariants/spread.js';
import { type Asked, type Finding, type InstanceFact, livePool } from './invariants/types.js';
import { type Ledger } from './ledger.js';
import type { Delivery, SentCall } from './process.js';
import { MANIFEST_KEY, SOAK_BUCKET, SOAK_FLEET, STATE_PREFIX } from './scenario.js';

/** Cycles with no launch and live == desired before a pool counts as settled (spread). */
export const SETTLE_CYCLES = 5;
const ENDED_BY_OTHERS = new Set(['interrupted', 'self-shutdown', 'boot-failure']);
const LAST_GOOD_KEYS = [`${STATE_PREFIX}last-good-desired.json`, `${STATE_PREFIX}last-good-manifest.json`];

export function instanceFact(i: SimInstance): InstanceFact {
  const tag = (k: string) => i.tags[k];
  return {
    id: i.id,
    region: i.region,
    az: i.az,
    instanceType: i.instanceType,
    ami: i.ami,
    state: i.state,
    ...(tag('fleet:managed-by') !== undefined ? { managedBy: tag('fleet:managed-by') } : {}),
    ...(tag('fleet:pool') !== undefined ? { pool: tag('fleet:pool') } : {}),
    ...(tag('Name') !== undefined ? { name: tag('Name') } : {}),
    ...(tag('fleet:replaces') !== undefined ? { replaces: tag('fleet:replaces') } : {}),
  };
}

/** The newest non-drained image per "pool region": what a manifest calls current. */
export function currentImages(images: readonly Image[], drained: ReadonlySet<string>): Record<string, string> {
  const best = new Map<string, Image>();
  for (const image of images) {
    if (drained.has(image.id)) continue;
    const key = `${image.pool} ${image.region}`;
    const was = best.get(key);
    if (!was || image.created > was.created || (image.created === was.created && image.id > was.id)) best.set(key, image);
  }
  return Object.fromEntries([...best].map(([key, image]) => [key, image.id]));
}

interface Frame {
  readonly t0: number;
  readonly before: readonly InstanceFact[];
  readonly liveBefore: Record<string, number>;
  readonly events: number;
  readonly calls: number;
  readonly processes: readonly string[];
  readonly lastGood: readonly (string | undefined)[];
  readonly manifestBad: boolean;
}

/** What the run tells the judge about a cycle besides the cloud's own state. */
export interface CycleReport {
  readonly cycle: number;
  readonly ends: readonly CycleEnd[];
  readonly sent: readonly SentCall[];
  readonly deliveries: readonly Delivery[];
  /** processes alive during the cycle */
  readonly processes: readonly string[];
}

export class Judge {
  private frame: Frame | undefined;
  private readonly quiet = new Map<string, { cycles: number; desired: number }>();

  constructor(
    private readonly cloud: SimCloud,
    private readonly policies: () => readonly PoolPolicy[],
    private readonly ledger: Ledger,
    private readonly inputs: SoakInputs,
    private readonly windows: FaultWindows,
  ) {}

  private facts(): InstanceFact[] {
    return [...this.cloud.world.instances.values()].map(instanceFact);
  }

  private liveCounts(facts: readonly InstanceFact[]): Record<string, number> {
    return Object.fromEntries(this.policies().map((p) => [p.pool, livePool(facts, SOAK_FLEET, p.pool).length]));
  }

  /** Look at the cloud as the cycle begins. */
  begin(processes: readonly string[]): void {
    const before = this.facts();
    this.frame = {
      t0: this.cloud.clock.now(),
      before,
      liveBefore: this.liveCounts(before),
      events: this.cloud.world.events.length,
      calls: this.cloud.calls.length,
      processes,
      lastGood: LAST_GOOD_KEYS.map((k) => this.cloud.objects.peek(SOAK_BUCKET, k)?.body),
      manifestBad: this.inputs.manifestBad,
    };
  }

  /** Judge the cycle that just ended. */
  end(report: CycleReport): Finding[] {
    const frame = this.frame as Frame;
    const t1 = this.cloud.clock.now();
    const policies = this.policies();
    const after = this.facts();
    const calls = this.cloud.calls.slice(frame.calls);
    const events = this.cloud.world.events.slice(frame.events);

    const lastGood = [...frame.lastGood, ...LAST_GOOD_KEYS.map((k) => this.cloud.objects.peek(SOAK_BUCKET, k)?.body)];
    const copies = this.ledger.copies(frame.processes, report.deliveries, lastGood);
    const asked: Record<string, Asked> = {};
    for (const p of policies) {
      const sizes = copies.desired.map((counts) => desiredSize(p, counts));
      asked[p.pool] = sizes.length === 0 ? { low: 0, high: 0 } : { low: Math.min(...sizes), high: Math.max(...sizes) };
    }
    const desiredLow = Object.fromEntries(Object.entries(asked).map(([pool, a]) => [pool, a.low]));
    const drainedNow = drainedAt(this.ledger.drained, t1);
    const byId = new Map([...frame.before, ...after].map((i) => [i.id, i]));
    const terminatedByFleet = new Set(calls.filter((c) => c.action === 'TerminateInstances').flatMap((c) => (c.detail?.instanceIds as string[] | undefined) ?? []));
    const endedByOthers = new Set(events.filter((e) => ENDED_BY_OTHERS.has(e.kind)).map((e) => e.instance.id));
    const runCalls = calls.filter((c) => c.action === 'RunInstances' && typeof c.detail?.clientToken === 'string');

    this.ledger.sentBy(report.sent);
    this.ledger.answered(calls);
    const findings: Finding[] = [
      ...checkPoolMax({ max: Object.fromEntries(policies.map((p) => [p.pool, p.size.max])), liveBefore: frame.liveBefore, changes: liveChanges(events) }),
      ...checkUniqueNames(after, SOAK_FLEET),
      ...checkDrainedLaunches(
        runCalls.map((c) => ({ sentAt: Number(c.detail?.sentAt), ami: String(c.detail?.ami), clientToken: String(c.detail?.clientToken), name: String(c.detail?.name), result: c.result })),
        this.ledger.drained,
      ),
      ...checkOwnership(touchingCalls(calls), (id) => this.ownerOf(id), SOAK_FLEET),
      ...checkBadManifestRetirements({
        manifestBad: frame.manifestBad || this.inputs.manifestBad || this.windows.objectFaultOn(SOAK_BUCKET, MANIFEST_KEY, frame.t0, t1 + 1),
        lastGoodCurrent: copies.manifests.map((m) => currentImages(m.images, drainedNow)),
        terminated: [...terminatedByFleet].flatMap((id) => {
          const i = byId.get(id);
          return i?.pool !== undefined ? [{ id, pool: i.pool, region: i.region, ami: i.ami }] : [];
        }),
        liveBefore: frame.liveBefore,
        desiredLow,
      }),
      ...checkJournal({ pending: this.journal(), tokens: this.ledger.tokens, cycles: this.ledger.cycles }),
      ...checkCycleErrors(report.ends),
      ...checkResends(
        runCalls.map((c) => ({ clientToken: String(c.detail?.clientToken), params: String(c.detail?.params), name: String(c.detail?.name) })),
        this.ledger.firstParams,
      ),
    ];
    for (const p of policies) {
      const pool = p.pool;
      const asks = asked[pool] as Asked;
      const liveAfter = livePool(after, SOAK_FLEET, pool);
      const pairBudget = resolveBudget(p.freshness.retireBudget, asks.high) + resolveBudget(p.onDemand.replaceBudget, asks.high);
      findings.push(...checkGrowth({ pool, liveBefore: frame.liveBefore[pool] ?? 0, liveAfter, asked: asks, pairBudget }));
      findings.push(
        ...checkRunningCapacity({
          pool,
          before: frame.before.filter((i) => i.managedBy === SOAK_FLEET && i.pool === pool),
          after: after.filter((i) => i.managedBy === SOAK_FLEET && i.pool === pool),
          drained: drainedNow,
          terminatedByFleet,
          endedByOthers,
          desiredLow: asks.low,
        }),
      );
      const desired = desiredSize(p, this.inputs.desired);
      const settled = this.settle(pool, desired, liveAfter.length, runCalls.some((c) => c.detail?.pool === pool));
      findings.push(...checkSpread({ pool, spread: p.spread, scaleDown: p.scaleDown, desired, live: liveAfter, settled }));
    }

    for (const c of runCalls) if (!this.ledger.firstParams.has(String(c.detail?.clientToken))) this.ledger.firstParams.set(String(c.detail?.clientToken), String(c.detail?.params));
    this.ledger.handedOut(report.deliveries);
    return findings;
  }

  /** Count quiet cycles (no launch, live == desired, desired unchanged); settled after SETTLE_CYCLES. */
  private settle(pool: string, desired: number, live: number, launched: boolean): boolean {
    const was = this.quiet.get(pool);
    const quiet = !launched && live === desired;
    const cycles = quiet && was?.desired === desired ? was.cycles + 1 : quiet ? 1 : 0;
    this.quiet.set(pool, { cycles, desired });
    return cycles >= SETTLE_CYCLES;
  }

  /** The pending launches in reconciler.json as stored. */
  private journal(): { clientToken: string; name: string; pool: string }[] {
    const body = this.cloud.objects.peek(SOAK_BUCKET, `${STATE_PREFIX}reconciler.json`)?.body;
    if (body === undefined) return [];
    const doc = JSON.parse(body) as { pendingLaunches?: { clientToken: string; name: string; pool: string }[] };
    return doc.pendingLaunches ?? [];
  }

  private ownerOf(id: string): string | undefined {
    const world = this.cloud.world;
    const tags = world.instances.get(id)?.tags ?? world.archive.find((i) => i.id === id)?.tags ?? world.images.get(id)?.tags ?? world.snapshots.get(id)?.tags;
    return tags?.['fleet:managed-by'];
  }
}

/** Changes of fleet's live count per pool during the cycle, from the world's own events. */
function liveChanges(events: SimCloud['world']['events']): LiveChange[] {
  return events.flatMap((e): LiveChange[] => {
    const pool = e.instance.tags['fleet:pool'];
    if (e.instance.tags['fleet:managed-by'] !== SOAK_FLEET || pool === undefined) return [];
    if (e.kind === 'launch') return [{ t: e.t, pool, delta: 1 }];
    if (e.kind === 'running') return [];
    return [{ t: e.t, pool, delta: -1 }];
  });
}

/** Calls that change named resources, and the resources they name. */
function touchingCalls(calls: readonly SimCall[]): { action: string; resources: string[] }[] {
  return calls.flatMap((c) => {
    const d = c.detail ?? {};
    const ids = [
      ...((d.instanceIds as string[] | undefined) ?? []),
      ...((d.resources as string[] | undefined) ?? []),
      ...(typeof d.imageId === 'string' && c.action === 'DeregisterImage' ? [d.imageId] : []),
      ...(typeof d.snapshotId === 'string' ? [d.snapshotId] : []),
    ];
    return ids.length > 0 ? [{ action: c.action, resources: ids }] : [];
  });
}
