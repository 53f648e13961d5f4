import type { PendingLaunch } from '../domain/snapshot.js';
import type { Instance, Lifecycle } from '../domain/types.js';
import { isLive } from '../domain/types.js';
import { type Candidate, spreadKey } from '../policy/placement.js';

/** One worker of a pool as the planner counts it: a live instance, or a launch slot not yet listed. */
export interface Member {
  /** instance id, or the launch slot's token and name while it is not listed */
  readonly key: string;
  readonly name: string;
  readonly region: string;
  readonly az: string;
  readonly instanceType: string;
  readonly lifecycle: Lifecycle;
  readonly ami: string;
  readonly instance?: Instance;
  readonly pending?: PendingLaunch;
  /** the instance this one was launched to replace */
  readonly replaces?: string;
  /**
   * counts toward the pool's size: nothing on a drained image does (an instance there leaves within
   * the drain budget, a launch there may land; both still take room, and a launch's name stays reserved)
   */
  readonly counts: boolean;
  /** the offer (zone × type) it occupies for the spread cap: `spreadKey()`, worked out once */
  readonly spread: string;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** A launch the plan adds: an offer (with its image) and why. */
export interface Placement {
  readonly offer: Candidate;
  readonly reason: string;
  readonly replaces?: string;
}

export interface Departure {
  readonly reason: string;
  /** fleet terminates it (false: it is leaving by itself, e.g. a reclaimed spot instance) */
  readonly terminate: boolean;
}

/**
 * One pool's decision in one place: who is there, who leaves, which launches are added, and which
 * replacement pairs are open. Every count is derived from these facts, never kept by hand, so the
 * steps of planPool (drains, pairs, scale-down, shortfall, replacements) always agree.
 */
export class PoolLedger {
  readonly members: readonly Member[];
  private readonly leaving = new Map<string, Departure>();
  private readonly planned: Placement[] = [];
  private readonly byId: ReadonlyMap<string, Member>;
  // Derived views, asked for many times per step: kept until the next leave() or add() changes them.
  // Callers get the cached array or map itself, never changed in place, so a view taken earlier stays as it was.
  private stayingView?: readonly Member[];
  private pairsView?: ReadonlyMap<string, Member | Placement>;

  constructor(instances: readonly Instance[], pending: readonly PendingLaunch[], drained: ReadonlySet<string>) {
    const members: Member[] = [];
    // `replaces` is set only where there is one; set after the literal, as spreading a conditional part into it is V8's slow path.
    for (const i of instances) {
      if (!isLive(i)) continue;
      const m: Mutable<Member> = { key: i.id, name: i.name, region: i.region, az: i.az, instanceType: i.instanceType, lifecycle: i.lifecycle, ami: i.ami, instance: i, counts: !drained.has(i.ami), spread: spreadKey(i) };
      if (i.replaces) m.replaces = i.replaces;
      members.push(m);
    }
    for (const p of pending) {
      const m: Mutable<Member> = {
        key: `${p.clientToken}#${p.name}`, name: p.name, region: p.region, az: p.az, instanceType: p.instanceType, lifecycle: p.lifecycle, ami: p.ami,
        pending: p, counts: !drained.has(p.ami), spread: spreadKey(p),
      };
      if (p.replaces) m.replaces = p.replaces;
      members.push(m);
    }
    this.members = members;
    this.byId = new Map(members.filter((m) => m.instance).map((m) => [m.key, m]));
  }

  leave(member: Member, reason: string, terminate = true): void {
    if (this.leaving.has(member.key)) return;
    this.leaving.set(member.key, { reason, terminate });
    this.stayingView = undefined;
    this.pairsView = undefined;
  }

  isLeaving(member: Member): boolean {
    return this.leaving.has(member.key);
  }

  /** Who leaves and why, in the order the steps decided it (scale-down's order is meaningful). */
  departures(): { member: Member; departure: Departure }[] {
    const byKey = new Map(this.members.map((m) => [m.key, m]));
    return [...this.leaving].map(([key, departure]) => ({ member: byKey.get(key) as Member, departure }));
  }

  add(placement: Placement): void {
    this.planned.push(placement);
    this.pairsView = undefined;
  }

  placements(): readonly Placement[] {
    return this.planned;
  }

  instance(id: string): Member | undefined {
    return this.byId.get(id);
  }

  /** Members that stay. */
  staying(): readonly Member[] {
    this.stayingView ??= this.members.filter((m) => !this.leaving.has(m.key));
    return this.stayingView;
  }

  /**
   * Open replacement pairs, target id → its replacement: both staying, the replacement counting (a
   * replacement that leaves, or whose image is drained, closes its pair: the target is a worker again).
   */
  openPairs(): ReadonlyMap<string, Member | Placement> {
    this.pairsView ??= this.findPairs();
    return this.pairsView;
  }

  private findPairs(): Map<string, Member | Placement> {
    const pairs = new Map<string, Member | Placement>();
    const open = (target: string | undefined, replacement: Member | Placement) => {
      if (target === undefined || pairs.has(target)) return;
      const t = this.byId.get(target);
      if (t && !this.leaving.has(t.key)) pairs.set(target, replacement);
    };
    for (const m of this.members) if (m.counts && !this.leaving.has(m.key)) open(m.replaces, m);
    for (const p of this.planned) open(p.replaces, p);
    return pairs;
  }

  /** Workers: staying members that count and planned launches, each open pair once. */
  size(): number {
    return this.staying().filter((m) => m.counts).length + this.planned.length - this.openPairs().size;
  }

  /**
   * Everything that occupies the pool right now, leaving or not, plus what is planned: what `size.max`
   * bounds. A termination may fail, so what leaves still takes room until the cloud says it is gone.
   */
  footprint(): number {
    return this.members.length + this.planned.length;
  }

  /** Workers per offer (zone × type) for the spread cap: a pair counts once, where its replacement is. */
  occupancy(): Map<string, number> {
    const targets = new Set(this.openPairs().keys());
    const occupancy = new Map<string, number>();
    const add = (key: string) => occupancy.set(key, (occupancy.get(key) ?? 0) + 1);
    for (const m of this.staying()) if (m.counts && !targets.has(m.key)) add(m.spread);
    for (const p of this.planned) add(spreadKey(p.offer));
    return occupancy;
  }

  /** Staying instance members in no open pair, as target or as replacement. */
  unpaired(): readonly Member[] {
    const pairs = this.openPairs();
    const replacements = new Set([...pairs.values()].flatMap((r) => ('key' in r ? [r.key] : [])));
    return this.staying().filter((m) => m.instance && m.counts && !pairs.has(m.key) && !replacements.has(m.key));
  }
}
