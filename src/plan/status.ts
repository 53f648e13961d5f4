import type { PoolPolicy } from '../domain/policy.js';
import type { Snapshot } from '../domain/snapshot.js';
import type { InstanceState, Lifecycle } from '../domain/types.js';
import { isLive } from '../domain/types.js';
import { type AmiStatus, ImageIndex } from '../policy/images.js';
import { imageStatus } from '../policy/rollout.js';
import { PriceBook } from '../policy/prices.js';
import { type DemandReport, clampedCount, poolDesired } from './demand.js';
import { type RegionRollout, regionRollout, rolloutsOf } from './rollouts.js';

export interface InstanceRow {
  readonly id: string;
  readonly name: string;
  readonly pool: string;
  readonly region: string;
  readonly az: string;
  readonly instanceType: string;
  readonly lifecycle: Lifecycle;
  readonly state: InstanceState;
  readonly privateIp: string | null;
  readonly publicIp: string | null;
  readonly ami: string;
  readonly amiStatus: AmiStatus;
  /** ISO 8601 */
  readonly launchTime: string;
  /** seconds */
  readonly age: number;
  /** fleet asked it to leave by then (ISO 8601; tag `fleet:retire`), and why */
  readonly retireBy?: string;
  readonly retireCause?: string;
}

export interface PendingLaunchRow {
  readonly name: string;
  readonly pool: string;
  readonly instanceId: string | null;
  readonly region: string;
  readonly az: string;
  readonly instanceType: string;
  readonly lifecycle: Lifecycle;
  readonly ami: string;
  readonly requestedAt: string;
}

export interface PoolRow {
  readonly pool: string;
  readonly desired: number | null;
  readonly running: number;
  readonly pending: number;
  readonly spot: number;
  readonly onDemand: number;
  readonly outdated: number;
  /** dollars per hour of the live instances; null when a price is unknown */
  readonly costPerHour: number | null;
  /** what the cost figure lacks, when it is null */
  readonly costUnknown?: string;
  /** the pool's image rollout per region (absent for a pool with no policy) */
  readonly rollouts?: readonly RegionRollout[];
  /** manifest images of the pool fleet never launches, and why (absent when none) */
  readonly unusableImages?: readonly { readonly id: string; readonly region: string; readonly reason: string }[];
  /** how desired was worked out, for a pool whose desired comes from queue facts (idle: running workers beyond running jobs) */
  readonly demand?: DemandReport & { readonly idle: number };
}

export interface StatusView {
  readonly instances: readonly InstanceRow[];
  readonly pendingLaunches: readonly PendingLaunchRow[];
  readonly pools: readonly PoolRow[];
}

export interface StatusFilter {
  readonly pool?: string;
  readonly region?: string;
  /** include instances that have already terminated */
  readonly all?: boolean;
}

/** What `fleet status` shows: every managed instance and pending launch, and a line per pool. */
export function statusView(snapshot: Snapshot, policies: readonly PoolPolicy[], filter: StatusFilter = {}): StatusView {
  const images = new ImageIndex(snapshot.images, snapshot.drained);
  const rollouts = rolloutsOf(snapshot, policies, images);
  const statusOf = (i: { ami: string; pool: string; region: string }): AmiStatus =>
    snapshot.images === undefined ? 'unknown' : imageStatus(i.ami, i.pool, i.region, rollouts.get(i.pool)?.get(i.region), images);
  const prices = new PriceBook(snapshot.spotPrices, snapshot.onDemandPrices);
  const keep = (x: { pool: string; region: string }) =>
    (!filter.pool || x.pool === filter.pool) && (!filter.region || x.region === filter.region);
  const instances = snapshot.instances
    .filter(keep)
    .filter((i) => filter.all || i.state !== 'terminated')
    .map((i): InstanceRow => ({
      id: i.id,
      name: i.name,
      pool: i.pool,
      region: i.region,
      az: i.az,
      instanceType: i.instanceType,
      lifecycle: i.lifecycle,
      state: i.state,
      privateIp: i.privateIp ?? null,
      publicIp: i.publicIp ?? null,
      ami: i.ami,
      amiStatus: statusOf(i),
      launchTime: new Date(i.launchTime).toISOString(),
      age: Math.max(0, Math.round((snapshot.now - i.launchTime) / 1000)),
      ...(i.retireAt !== undefined
        ? { retireBy: new Date(i.retireAt).toISOString(), ...(i.retireCause ? { retireCause: i.retireCause } : {}) }
        : {}),
    }))
    .sort((a, b) => a.pool.localeCompare(b.pool) || a.name.localeCompare(b.name) || a.id.localeCompare(b.id));
  const pendingLaunches = snapshot.pendingLaunches.filter(keep).map((p): PendingLaunchRow => ({
    name: p.name,
    pool: p.pool,
    instanceId: p.instanceId ?? null,
    region: p.region,
    az: p.az,
    instanceType: p.instanceType,
    lifecycle: p.lifecycle,
    ami: p.ami,
    requestedAt: new Date(p.requestedAt).toISOString(),
  }));

  const poolNames = new Set([...policies.map((p) => p.pool), ...instances.map((i) => i.pool)]);
  const pools = [...poolNames]
    .filter((pool) => !filter.pool || pool === filter.pool)
    .sort()
    .map((pool): PoolRow => {
      const policy = policies.find((p) => p.pool === pool);
      const live = snapshot.instances.filter((i) => i.pool === pool && keep(i) && isLive(i));
      const pending = snapshot.pendingLaunches.filter((p) => p.pool === pool && keep(p));
      const unusable = (snapshot.unusableImages ?? [])
        .filter((i) => i.pool === pool && keep(i))
        .map(({ id, region, reason }) => ({ id, region, reason }));
      let cost = 0;
      const unknown = new Set<string>();
      for (const i of live) {
        const price = policy ? prices.price(policy, i.lifecycle, i.region, i.az, i.instanceType) : undefined;
        if (price === undefined) unknown.add(`${i.lifecycle} ${i.instanceType} in ${i.region}`);
        else cost += price;
      }
      const wanted = policy && snapshot.desired ? poolDesired(policy, snapshot, snapshot.timers[pool]) : undefined;
      const runningCount = live.filter((i) => i.state === 'running').length;
      return {
        pool,
        desired: wanted ? (wanted.unknown && policy ? clampedCount(policy, live.length + pending.length) : wanted.desired) : null,
        running: runningCount,
        pending: live.filter((i) => i.state === 'pending').length + pending.length,
        spot: live.filter((i) => i.lifecycle === 'spot').length + pending.filter((p) => p.lifecycle === 'spot').length,
        onDemand: live.filter((i) => i.lifecycle === 'on-demand').length + pending.filter((p) => p.lifecycle === 'on-demand').length,
        outdated: live.filter((i) => {
          const s = statusOf(i);
          return s === 'outdated' || s === 'drained';
        }).length,
        costPerHour: unknown.size > 0 ? null : Math.round(cost * 10_000) / 10_000,
        ...(unknown.size > 0 ? { costUnknown: `no price for ${[...unknown].sort().join(', ')}` } : {}),
        ...(policy && snapshot.images !== undefined ? { rollouts: [...(rollouts.get(pool)?.values() ?? [])].map(regionRollout) } : {}),
        ...(unusable.length > 0 ? { unusableImages: unusable } : {}),
        ...(wanted?.demand ? { demand: { ...wanted.demand, idle: Math.max(0, runningCount - wanted.demand.running) } } : {}),
      };
    });
  return { instances, pendingLaunches, pools };
}
