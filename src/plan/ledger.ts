import type { RetireEnd } from '../domain/actions.js';
import type { Cause } from '../domain/causes.js';
import type { Lookup } from '../domain/lookup.js';
import { keepShape } from '../domain/shapes.js';
import type { PendingLaunch } from '../domain/snapshot.js';
import type { Instance, Lifecycle } from '../domain/types.js';
import { isLive } from '../domain/types.js';
import type { AmiStatus } from '../policy/images.js';
import { type Candidate, spreadKey } from '../policy/placement.js';
import { MemoByTwo } from './memo.js';

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
  /** why it was launched, when its tags or the journal say */
  readonly cause?: Cause;
  /**
   * counts toward the pool's size: nothing on a drained image does (an instance there leaves within
   * the drain budget, a launch there may land; both still take room, and a launch's name stays reserved)
   */
  readonly counts: boolean;
  /** the offer (zone × type) it occupies for the spread cap: `spreadKey()`, worked out once */
  readonly spread: string;
  /** how its image stands for the pool in its region (`imageStatus`), worked out once */
  readonly status: AmiStatus;
}

/** A launch the plan adds: an offer (with its image) and why. */
export interface Placement {
  readonly offer: Candidate;
  readonly cause: Cause;
  readonly reason: string;
  readonly replaces?: string;
}

export interface Departure {
  readonly cause: Cause;
  readonly reason: string;
  /** fleet terminates it (false: it is leaving by itself, e.g. a reclaimed spot instance) */
  readonly terminate: boolean;
  /** a worker asked to leave: why it ends now */
  readonly retireEnd?: RetireEnd;
  /** an idle worker that takes a busy one's place in a replacement pair: the pair's replacement */
  readonly standsInFor?: { readonly replacement: Member; readonly busy: Member };
}

/**
 * One pool's decision in one place: who is there, who leaves, which launches are added, and which
 * replacement pairs are open. Every count is derived from these facts, never kept by hand, so the
 * steps of planPool (drains, pairs, scale-down, shortfall, replacements) always agree.
 */
export class PoolLedger {
  readonly members: readonly Member[];
  /** by member key, in the order the steps decided it */
  private readonly leaving = new Map<string, { member: Member; departure: Departure }>();
  private readonly planned: Placement[] = [];
  /** replacement key → the instance its pair now replaces, where an idle worker stood in for a busy target */
  private readonly repointed = new Map<string, string>();
  private readonly byId: ReadonlyMap<string, Member>;
  // Derived views, asked for many times per step. A leave() can reopen or close any pair, so it drops
  // them all; an add() only appends, so the pairs and the occupancy are carried forward over the
  // placements added since (`pairsThrough`, `occupancyThrough`) rather than derived again from every member.
  private stayingView?: readonly Member[];
  private countingView?: number;
  private pairsView?: PairsView;
  private unpairedView?: readonly Member[];
  /** how many placements there were when unpairedView was taken: a later one may have paired a member */
  private unpairedThrough = 0;

  constructor(
    instances: readonly Instance[],
    pending: readonly PendingLaunch[],
    drained: ReadonlySet<string>,
    status: Lookup<{ ami: string; region: string }, AmiStatus>,
  ) {
    const members: Member[] = [];
    // Members of one offer share one key string: fewer strings to make, and each hashed once.
    const spreadOf = new MemoByTwo(zoneOf, typeOf, spreadKey);
    // Every member is written as one literal with every field (undefined where it has none): one shape
    // for all, which V8 keeps with the literal (see keepShape), where a field added later would not be.
    for (const i of instances) {
      if (!isLive(i)) continue;
      members.push({
        key: i.id,
        name: i.name,
        region: i.region,
        az: i.az,
        instanceType: i.instanceType,
        lifecycle: i.lifecycle,
        ami: i.ami,
        instance: i,
        pending: undefined,
        replaces: i.replaces || undefined,
        cause: i.cause,
        counts: !drained.has(i.ami),
        spread: spreadOf.get(i),
        status: status.get(i),
      });
    }
    for (const p of pending) {
      members.push({
        key: `${p.clientToken}#${p.name}`,
        name: p.name,
        region: p.region,
        az: p.az,
        instanceType: p.instanceType,
        lifecycle: p.lifecycle,
        ami: p.ami,
        instance: undefined,
        pending: p,
        replaces: p.replaces || undefined,
        cause: p.cause,
        counts: !drained.has(p.ami),
        spread: spreadOf.get(p),
        status: status.get(p),
      });
    }
    this.members = members;
    const byId = new Map<string, Member>();
    for (const m of members) if (m.instance) byId.set(m.key, m);
    this.byId = byId;
  }

  leave(member: Member, cause: Cause, reason: string, terminate = true, retireEnd?: RetireEnd): void {
    this.depart(member, { cause, reason, terminate, ...(retireEnd ? { retireEnd } : {}) });
  }

  /**
   * An idle worker leaves in a busy target's place: the replacement's pair is re-pointed to it, so the
   * busy one stays a worker (in no pair) and finishes its job; it is replaced later, like any other.
   */
  standIn(idle: Member, pair: { replacement: Member; busy: Member }, cause: Cause, reason: string): void {
    this.repointed.set(pair.replacement.key, idle.key);
    this.depart(idle, { cause, reason, terminate: true, standsInFor: pair });
  }

  private depart(member: Member, departure: Departure): void {
    if (this.leaving.has(member.key)) return;
    this.leaving.set(member.key, { member, departure });
    this.stayingView = undefined;
    this.countingView = undefined;
    this.pairsView = undefined;
    this.unpairedView = undefined;
  }

  isLeaving(member: Member): boolean {
    return this.leaving.has(member.key);
  }

  /** Who leaves and why, in the order the steps decided it (scale-down's order is meaningful). */
  departures(): Iterable<{ readonly member: Member; readonly departure: Departure }> {
    return this.leaving.values();
  }

  add(placement: Placement): void {
    this.planned.push(placement);
  }

  placements(): readonly Placement[] {
    return this.planned;
  }

  instance(id: string): Member | undefined {
    return this.byId.get(id);
  }

  /** Members that stay. */
  staying(): readonly Member[] {
    if (this.stayingView === undefined) {
      const staying: Member[] = [];
      for (const m of this.members) if (!this.leaving.has(m.key)) staying.push(m);
      this.stayingView = staying;
    }
    return this.stayingView;
  }

  /**
   * Open replacement pairs, target id → its replacement: both staying, the replacement counting (a
   * replacement that leaves, or whose image is drained, closes its pair: the target is a worker again).
   * The ledger's own map, to read at once: the next add() may open a pair in it, a leave() drops it.
   */
  openPairs(): ReadonlyMap<string, Member | Placement> {
    return this.pairsAndOccupancy().pairs;
  }

  /**
   * Workers per offer (zone × type) for the spread cap: a pair counts once, where its replacement is.
   * A fresh map: the caller may change it (as `allocate` does).
   */
  occupancy(): Map<string, number> {
    return new Map(this.pairsAndOccupancy().occupancy);
  }

  /**
   * The open pairs and the occupancy, up to date: found again from the staying members after a
   * leave(), which can reopen or close any pair; else carried forward over the placements added since.
   */
  private pairsAndOccupancy(): PairsView {
    if (this.pairsView === undefined) {
      const pairs = new Map<string, Member | Placement>();
      for (const m of this.staying()) if (m.counts) this.openPair(pairs, m);
      const occupancy = new Map<string, number>();
      // A target paired with a member counts where that member is; one paired with a placement, below.
      for (const m of this.staying()) if (m.counts && !pairs.has(m.key)) bump(occupancy, m.spread, 1);
      this.pairsView = { pairs, occupancy, through: 0 };
    }
    const view = this.pairsView;
    // Each placement since takes a place, and may open a pair (never close one) after all others: then
    // it frees its target's place (a pair counts once).
    for (; view.through < this.planned.length; view.through++) {
      const p = this.planned[view.through] as Placement;
      this.openPair(view.pairs, p);
      bump(view.occupancy, p.offer.spread, 1);
      const target = p.replaces === undefined ? undefined : this.byId.get(p.replaces);
      if (target?.counts && view.pairs.get(target.key) === p) bump(view.occupancy, target.spread, -1);
    }
    return view;
  }

  /** The first staying replacement of a staying instance opens its pair. */
  private openPair(pairs: Map<string, Member | Placement>, replacement: Member | Placement): void {
    const target = ('key' in replacement ? this.repointed.get(replacement.key) : undefined) ?? replacement.replaces;
    if (target === undefined || pairs.has(target)) return;
    const t = this.byId.get(target);
    if (t && !this.leaving.has(t.key)) pairs.set(target, replacement);
  }

  /** Workers: staying members that count and planned launches, each open pair once. */
  size(): number {
    if (this.countingView === undefined) {
      let counting = 0;
      for (const m of this.staying()) if (m.counts) counting++;
      this.countingView = counting;
    }
    return this.countingView + this.planned.length - this.countedTwice();
  }

  /**
   * Open pairs whose target counts as well as its replacement: one worker each, counted twice above.
   * A target on a drained image counts for nothing: its pair is its replacement alone.
   */
  private countedTwice(): number {
    let twice = 0;
    for (const target of this.openPairs().keys()) if (this.byId.get(target)?.counts) twice++;
    return twice;
  }

  /**
   * Everything that occupies the pool right now, leaving or not, plus what is planned: what `size.max`
   * bounds. A termination may fail, so what leaves still takes room until the cloud says it is gone.
   */
  footprint(): number {
    return this.members.length + this.planned.length;
  }

  /** Staying instance members in no open pair, as target or as replacement: kept until a leave() or a placement may change it. */
  unpaired(): readonly Member[] {
    if (this.unpairedView === undefined || this.unpairedThrough < this.planned.length) {
      const pairs = this.openPairs();
      const replacements = new Set<string>();
      for (const r of pairs.values()) if ('key' in r) replacements.add(r.key);
      const unpaired: Member[] = [];
      for (const m of this.staying()) if (m.instance && m.counts && !pairs.has(m.key) && !replacements.has(m.key)) unpaired.push(m);
      this.unpairedView = unpaired;
      this.unpairedThrough = this.planned.length;
    }
    return this.unpairedView;
  }
}

/** The open pairs and the occupancy (never handed out: updated in place), as of the first `through` placements. */
interface PairsView {
  readonly pairs: Map<string, Member | Placement>;
  readonly occupancy: Map<string, number>;
  through: number;
}

/**
 * A pair the images changed under: its replacement runs an outdated image, its target a current one.
 * Its reason no longer holds, and completing it would move a worker backwards (placements are on
 * launchable images: never backwards).
 */
export const isBackwards = (target: Member, replacement: Member | Placement) =>
  'status' in replacement && replacement.status === 'outdated' && target.status === 'current';

const zoneOf = (o: { az: string }) => o.az;
const typeOf = (o: { instanceType: string }) => o.instanceType;

keepShape(new PoolLedger([], [], new Set(), { get: () => 'current' }));

function bump(counts: Map<string, number>, key: string, by: number): void {
  counts.set(key, (counts.get(key) ?? 0) + by);
}
