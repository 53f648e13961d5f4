// The soak: many seeds × many one-minute cycles of the real runtime on the simulated cloud, with
// every fault the simulator has injected at random moments, and the invariants checked after every
// cycle from the cloud's own view. Everything random is drawn from the seed (src/fake-cloud/prng.ts).

import type { Logger } from 'pino';
import type { Clock } from '../../src/domain/clock.js';
import type { PoolPolicy } from '../../src/domain/policy.js';
import { silentLogger } from '../../src/service/logger.js';
import { simInstanceTypes } from '../../src/fake-cloud/catalog.js';
import { SimCloud } from '../../src/fake-cloud/cloud.js';
import { Prng } from '../../src/fake-cloud/prng.js';
import { ImagePipeline, idleWorkersLeave } from '../../src/sim/workload.js';
import { type FaultKind, FaultWindows } from './chaos.js';
import { SoakCi } from './ci.js';
import { drawStray, strayBody } from './event-chaos.js';
import { SoakInputs } from './inputs.js';
import type { CycleEnd } from './invariants/cycle-errors.js';
import { type Finding, clampedDesired } from './invariants/types.js';
import { Judge } from './judge.js';
import { DRAINED_KEY, Ledger, isInputRead } from './ledger.js';
import { Operator } from './operator.js';
import type { Delivery, ProcessCloud, SentCall } from './process.js';
import { Replica, type Tick } from './replica.js';
import { SOAK_BUCKET, SOAK_FLEET, type SoakScenario, editPolicy, soakScenario } from './scenario.js';
import { CONVERGE_CYCLES, Takeover } from './takeover.js';

export interface SoakOptions {
  readonly seeds: readonly number[];
  readonly cycles: number;
  /** fleet's own logs (silent by default), given the seed's simulated clock */
  readonly log?: (clock: Clock) => Logger;
  /** told as each seed finishes */
  readonly onSeed?: (result: SeedResult) => void;
}

export interface Violation {
  readonly seed: number;
  readonly cycle: number;
  readonly invariant: string;
  readonly detail: string;
}

export interface SeedResult {
  readonly seed: number;
  readonly cycles: number;
  /** each violation once, when it appears (a condition lasting several cycles is one) */
  readonly violations: readonly Violation[];
  /** cycles with at least one finding, per invariant */
  readonly cyclesInViolation: Readonly<Record<string, number>>;
  readonly injected: Readonly<Partial<Record<FaultKind, number>>>;
  /** what the faults did, counted from the cloud's own logs */
  readonly effects: Readonly<Record<string, number>>;
  readonly durationMs: number;
}

const MINUTE = 60_000;
const CALM_CAPACITY = 1000;
const CHANCE = {
  kill: 1 / 20,
  crunch: 1 / 60,
  s3Outage: 1 / 90,
  corruptRead: 1 / 80,
  badManifest: 1 / 120,
  policyEdit: 1 / 110,
  takeover: 1 / 140,
  brokenBake: 0.3,
  strayMessage: 1 / 15,
  duplicateDelivery: 1 / 4,
};
const CORRUPTIBLE = [
  'state/reconciler.json',
  'state/drained.json',
  'state/lease.json',
  'state/last-good-manifest.json',
  'state/last-good-desired.json',
  'amis.json',
  'desired.json',
];
const OUTAGE_SCOPES = ['state/', 'state/', 'amis.json', 'desired.json', ''];

export async function runSoak(options: SoakOptions): Promise<SeedResult[]> {
  const results: SeedResult[] = [];
  for (const seed of options.seeds) {
    const result = await runSeed(seed, options.cycles, options.log);
    options.onSeed?.(result);
    results.push(result);
  }
  return results;
}

/** One seed: a world, a fleet, `cycles` minutes of chaos, and the judge's findings. */
export async function runSeed(
  seed: number,
  cycles: number,
  log: (clock: Clock) => Logger = silentLogger,
  onCycle?: (cycle: number, cloud: SimCloud) => void,
): Promise<SeedResult> {
  const began = performance.now();
  const scenario = soakScenario(seed);
  const soak = new Soak(scenario, cycles, log);
  for (let cycle = 0; cycle < cycles; cycle++) {
    await soak.cycle(cycle);
    onCycle?.(cycle, soak.cloud);
  }
  return { seed, cycles, ...soak.results(), durationMs: Math.round(performance.now() - began) };
}

class Soak {
  readonly cloud: SimCloud;
  private readonly log: Logger;
  private readonly rng: Prng;
  private policies: readonly PoolPolicy[];
  private readonly ledger = new Ledger();
  private readonly windows = new FaultWindows();
  private readonly inputs: SoakInputs;
  private readonly pipeline: ImagePipeline;
  private readonly ci: SoakCi;
  /** asked workers whose agent powered them off */
  private agentsLeft = 0;
  private readonly operator: Operator;
  private readonly judge: Judge;
  private readonly processes: ProcessCloud[] = [];
  private readonly read = new Map<ProcessCloud, { sent: number; deliveries: number }>();
  private replicas: Replica[];
  private replicaCount = 0;
  private episode: Takeover | undefined;
  private readonly crunched = new Set<string>();
  private readonly calmed = new Set<string>();
  private expectedCalls = 20;
  private nextDemand = 0;
  private editAt = -1;
  private revision = 0;
  private readonly violations: Violation[] = [];
  private readonly lasting = new Map<string, number>();
  private readonly cyclesInViolation: Record<string, number> = {};
  /** what the stalled leaders' held calls were, by action */
  private readonly stalls: Record<string, number> = {};
  /** turns run before their minute was up, on an interruption warning */
  private earlyTurns = 0;

  constructor(
    private readonly scenario: SoakScenario,
    private readonly cycles: number,
    logFor: (clock: Clock) => Logger,
  ) {
    const { seed, start, config } = scenario;
    this.rng = new Prng(seed).fork('soak');
    this.policies = scenario.policies;
    this.cloud = new SimCloud({ seed, start, market: scenario.market, world: scenario.world, events: true });
    this.log = logFor(this.cloud.clock);
    for (const region of config.regions) {
      const named = new Set(this.policies.flatMap((p) => p.regions[region]?.subnets ?? []));
      this.cloud.world.adoptSubnets(region, [...named].sort());
    }
    this.cloud.objects.createBucket(SOAK_BUCKET);
    this.cloud.objects.onWrite = (bucket, key, body) => {
      if (bucket === SOAK_BUCKET && key === DRAINED_KEY) this.ledger.storedDrained(this.cloud.clock.now(), body);
    };
    this.pipeline = new ImagePipeline(this.cloud.world, this.policies, config.regions, scenario.bakePeriodHours);
    this.pipeline.seed(start, 2);
    this.inputs = new SoakInputs(this.cloud, this.policies, this.pipeline, this.ledger);
    this.ci = new SoakCi(this.cloud.world, this.policies, scenario.ci, new Prng(seed).fork('ci'), start);
    this.inputs.publishManifest();
    this.inputs.moveDemand(this.rng.fork('demand'), true);
    this.foreignInstances();
    this.operator = new Operator(this.cloud, config.state);
    this.track(this.operator.process);
    this.judge = new Judge(this.cloud, () => this.policies, this.ledger, this.inputs, this.windows, config.visibilityTimeout * 1000);
    this.replicas = [this.newReplica()];
  }

  private newReplica(): Replica {
    const id = `replica-${String.fromCharCode(97 + this.replicaCount++)}`;
    const replica = new Replica(id, this.policies, {
      cloud: this.cloud,
      config: this.scenario.config,
      rng: this.rng.fork(id),
      log: this.log,
      watchReads: isInputRead,
    });
    this.track(replica.process);
    return replica;
  }

  private track(process: ProcessCloud): void {
    this.processes.push(process);
    this.read.set(process, { sent: 0, deliveries: 0 });
  }

  /** Everything the processes sent and were handed since the last look. */
  private wire(): { sent: SentCall[]; deliveries: Delivery[] } {
    const sent: SentCall[] = [];
    const deliveries: Delivery[] = [];
    for (const p of this.processes) {
      const seen = this.read.get(p) as { sent: number; deliveries: number };
      sent.push(...p.sent.slice(seen.sent));
      deliveries.push(...p.deliveries.slice(seen.deliveries));
      this.read.set(p, { sent: p.sent.length, deliveries: p.deliveries.length });
    }
    return { sent: sent.sort((a, b) => a.t - b.t), deliveries: deliveries.sort((a, b) => a.t - b.t) };
  }

  /** Other fleets' instances and untagged ones in fleet's own subnets, some named like fleet's. */
  private foreignInstances(): void {
    const rng = this.rng.fork('foreign');
    const images = this.inputs.images();
    let n = 0;
    for (const region of this.scenario.config.regions) {
      const policy = this.policies.find((p) => p.regions[region]) as PoolPolicy;
      const subnetId = rng.pick(policy.regions[region]?.subnets ?? []);
      const ami = images.find((i) => i.region === region && i.pool === policy.pool)?.id as string;
      const tagSets: Record<string, string>[] = [
        { 'fleet:managed-by': 'other-fleet', 'fleet:pool': policy.pool, Name: `${policy.pool}-001` },
        { Name: `${policy.pool}-002` },
        {},
      ];
      for (const tags of tagSets) {
        this.cloud.world.createInstance({
          subnetId,
          instanceType: policy.instanceTypes[0]?.type as string,
          lifecycle: 'on-demand',
          productDescription: policy.productDescription,
          ami,
          tags,
          visibilityDelayMs: 0,
        });
        n++;
      }
    }
    this.windows.count('foreign-instances', n);
  }

  async cycle(cycle: number): Promise<void> {
    const t = this.scenario.start + cycle * MINUTE;
    this.cloud.clock.advanceTo(t);
    this.cloud.settle();
    const calm = this.episode !== undefined;
    this.inputs.mend(cycle);
    if (!calm) this.injectFaults(cycle, t);
    if (!calm) this.eventFaults(cycle, t);
    this.cloud.faults.update(this.windows.options(cycle, this.cloud.clock.now()));
    const bakeRng = this.rng.fork(`bake ${cycle}`);
    const broken = bakeRng.chance(CHANCE.brokenBake);
    if (this.inputs.bake(t, broken)) this.windows.count(broken ? 'broken-bake' : 'bake');
    if (!calm && cycle >= this.nextDemand) {
      const demand = this.rng.fork(`demand ${cycle}`);
      this.inputs.moveDemand(demand, false);
      this.nextDemand = cycle + demand.int(3, 10);
      if (cycle > 0) this.windows.count('demand-change');
    }
    const wanted = Object.fromEntries(this.policies.map((p) => [p.pool, clampedDesired(p, this.inputs.desired)]));
    this.ci.advance(t, wanted);
    this.agentsLeft += this.ci.agentsLeave(this.rng.fork(`agents ${cycle}`));
    idleWorkersLeave(this.cloud.world, this.policies, wanted, this.rng.fork(`idle ${cycle}`), MINUTE, this.ci.busyIds());
    // The CI's list is published every cycle (busy workers change by the minute), right while calm.
    const ciFault = (kind: FaultKind) => this.windows.count(kind);
    this.inputs.publishQueues(this.ci.entries(this.rng.fork(`ci ${cycle}`), cycle, t, ciFault, !calm));
    if (!calm) await this.operator.act(this.rng.fork(`operator ${cycle}`), cycle, this.pipeline, this.windows);
    if (cycle === this.editAt && calm) this.editAt++;
    else if (cycle === this.editAt) this.editPolicies(cycle);
    this.wire(); // the operator's writes belong to no cycle of fleet's

    const alive = [...new Set([...this.replicas.map((r) => r.process.name), ...(this.episode ? [this.episode.stalled.process.name] : [])])];
    this.judge.begin(alive);
    const running = this.ci.queueFormRunning();
    const ticks = await this.turns(cycle);
    this.cloud.settle();
    const { sent, deliveries } = this.wire();
    const ends: CycleEnd[] = ticks.map((k) => ({
      process: k.process,
      killed: k.killed,
      stopped: !k.leader || k.result?.error !== undefined,
      ...(k.error ? { error: k.error } : {}),
    }));
    for (const k of ticks)
      this.ledger.cycles.push({
        process: k.process,
        start: k.start,
        end: k.end,
        completed: k.leader && !k.error && !k.killed,
        mutated: sent.some((s) => s.process === k.process && s.action !== 'PutObject'),
      });
    const findings = this.judge.end({
      cycle,
      ends,
      sent,
      deliveries,
      processes: alive,
      takeover: calm || this.episode !== undefined,
      running,
    });
    const episodeFindings = this.episode?.observe(cycle, sent, this.cloud, this.policies, this.inputs.desired);
    if (episodeFindings) {
      findings.push(...episodeFindings);
      this.episode = undefined;
      this.restoreMarket();
    }
    this.record(cycle, findings);
    for (const k of ticks) if (k.killed) this.restartDead(k.process);
  }

  /**
   * Every replica's minute of its service loop: its turn, then the rest of the minute spent as the
   * service spends it (only the lease holder polls the event queue; a warning runs a turn at once).
   * Outside a takeover, a kill or a new takeover may be set up first.
   */
  private async turns(cycle: number): Promise<Tick[]> {
    const until = this.scenario.start + (cycle + 1) * MINUTE;
    const ticks: Tick[] = [];
    if (this.episode) {
      for (const r of this.episode.replicas(cycle)) ticks.push(...this.early(await r.turn(until)));
      ticks.push(...(await this.episode.resumeIfDue(cycle)));
      return ticks;
    }
    const leader = this.replicas[0] as Replica;
    const rng = this.rng.fork(`turn ${cycle}`);
    // A takeover needs room to finish before the run does.
    if (cycle > 10 && cycle < this.cycles - CONVERGE_CYCLES - 10 && rng.chance(CHANCE.takeover)) {
      this.bumpDemand(rng);
      this.calmMarket();
      const begun = await Takeover.begin(leader, () => this.newReplica(), rng, cycle, this.expectedCalls + 4, until);
      if (begun instanceof Takeover) {
        this.episode = begun;
        this.windows.count('leader-stall');
        const action = begun.stalledOn.split(' ')[0] as string;
        this.stalls[action] = (this.stalls[action] ?? 0) + 1;
        this.replicas = [begun.successor];
        ticks.push(...this.early(await begun.successor.turn(until)));
        return ticks;
      }
      this.restoreMarket();
      ticks.push(...this.early(begun));
    } else {
      const kill = rng.chance(CHANCE.kill);
      if (kill) void leader.process.arm({ kind: 'kill', atCall: rng.int(1, this.expectedCalls + 2), afterSend: rng.chance(0.5) });
      const disarm = (first: Tick) => {
        if (kill && !first.killed) leader.process.disarm();
      };
      ticks.push(...this.early(await leader.turn(until, disarm)));
    }
    for (const r of this.replicas.slice(1)) ticks.push(...this.early(await r.turn(until)));
    this.expectedCalls = Math.max(4, ticks[0]?.calls ?? this.expectedCalls);
    return ticks;
  }

  /** A replica's turns of one minute, its turns after the first (run early, on a warning) counted. */
  private early(turns: readonly Tick[]): readonly Tick[] {
    this.earlyTurns += Math.max(0, turns.length - 1);
    return turns;
  }

  private restartDead(process: string): void {
    for (const r of this.replicas) {
      if (r.process.name !== process) continue;
      this.windows.count('process-kill');
      this.ledger.forget(process);
      r.restart();
      this.track(r.process);
    }
  }

  /**
   * A takeover is judged on whether the pools end exactly at desired: the market must not be the
   * reason they do not, so spot capacity is plentiful (and the Price List answers: a policy that caps
   * spot at a share of an unknown on-demand price cannot buy spot) until the episode is over.
   */
  private calmMarket(): void {
    this.windows.close('capacity-crunch');
    this.windows.close('pricing-outage');
    for (const p of this.policies) {
      for (const [region, placement] of Object.entries(p.regions)) {
        for (const subnetId of placement.subnets) {
          const az = this.cloud.world.subnets.get(subnetId)?.az;
          if (az === undefined || !this.scenario.config.regions.includes(region)) continue;
          for (const { type } of p.instanceTypes) {
            this.cloud.world.market.setCapacity(az, type, 'spot', CALM_CAPACITY);
            this.calmed.add(`${az} ${type}`);
          }
        }
      }
    }
  }

  private restoreMarket(): void {
    for (const offer of this.calmed) {
      const [az, type] = offer.split(' ') as [string, string];
      this.cloud.world.market.setCapacity(az, type, 'spot', undefined);
    }
    this.calmed.clear();
  }

  /** Takeovers start with more work to do, so that both replicas want to launch. */
  private bumpDemand(rng: Prng): void {
    const growable = this.policies.filter((p) => p.scaleDown === 'terminate' && clampedDesired(p, this.inputs.desired) < p.size.max);
    if (growable.length === 0) return;
    const p = rng.pick(growable);
    this.inputs.publishDesired({ ...this.inputs.desired, [p.pool]: Math.min(p.size.max, clampedDesired(p, this.inputs.desired) + 2) });
  }

  private injectFaults(cycle: number, t: number): void {
    const rng = this.rng.fork(`faults ${cycle}`);
    this.windows.roll(rng, cycle);
    if (rng.chance(CHANCE.crunch)) this.crunch(rng, cycle);
    if (rng.chance(CHANCE.s3Outage))
      this.windows.openObjectFault({
        kind: 'outage',
        bucket: SOAK_BUCKET,
        keyPrefix: rng.pick(OUTAGE_SCOPES),
        from: t,
        until: t + rng.int(1, 5) * MINUTE,
      });
    if (rng.chance(CHANCE.corruptRead))
      this.windows.openObjectFault({
        kind: 'corrupt',
        bucket: SOAK_BUCKET,
        keyPrefix: rng.pick(CORRUPTIBLE),
        from: t,
        until: t + rng.int(1, 5) * MINUTE,
      });
    if (rng.chance(CHANCE.badManifest) && !this.inputs.manifestBad) {
      this.inputs.breakManifest(rng, cycle, rng.int(3, 15));
      this.windows.count('bad-manifest');
    }
    if (rng.chance(CHANCE.policyEdit) && this.editAt < cycle) {
      // Launches go unconfirmed (answers lost, instances invisible), then the policy changes under them.
      this.windows.open('lost-launch-responses', cycle, 2, 1);
      this.windows.open('visibility-delay', cycle, 6, 240_000);
      this.editAt = cycle + rng.int(1, 2);
    }
  }

  /** Messages on the event queue that are not EC2's events, and second deliveries of ones that were. */
  private eventFaults(cycle: number, t: number): void {
    // A fork of its own: the other faults are drawn as they were before the queue had any.
    const rng = this.rng.fork(`events ${cycle}`);
    if (rng.chance(CHANCE.strayMessage)) {
      const foreign = [...this.cloud.world.instances.values()].find((i) => i.tags['fleet:managed-by'] !== SOAK_FLEET);
      const region = foreign?.region ?? rng.pick(this.scenario.config.regions);
      this.cloud.eventQueue.send(strayBody(drawStray(rng), t, region, foreign?.id ?? 'i-0f0f0f0f0f0f0f0f0'));
      this.windows.count('stray-message');
    }
    if (rng.chance(CHANCE.duplicateDelivery) && this.cloud.eventQueue.duplicate(rng.int(0, 9)) !== undefined)
      this.windows.count('duplicate-delivery');
  }

  /** No spot capacity for a while in one zone (every type, or one of a pool's types). */
  private crunch(rng: Prng, cycle: number): void {
    const region = rng.pick(this.scenario.config.regions);
    const az = rng.pick(this.cloud.world.azs(region).filter((z) => [...this.cloud.world.subnets.values()].some((s) => s.az === z)));
    const policy = rng.pick(this.policies);
    const types = rng.chance(0.5) ? simInstanceTypes() : [rng.pick(policy.instanceTypes).type];
    const offers = types.map((type) => `${az} ${type}`).filter((o) => !this.crunched.has(o));
    if (offers.length === 0) return;
    for (const o of offers) {
      this.crunched.add(o);
      const [zone, type] = o.split(' ') as [string, string];
      this.cloud.world.market.setCapacity(zone, type, 'spot', 0);
    }
    this.windows.open('capacity-crunch', cycle, rng.int(5, 25), 1, () => {
      for (const o of offers) {
        this.crunched.delete(o);
        const [zone, type] = o.split(' ') as [string, string];
        this.cloud.world.market.setCapacity(zone, type, 'spot', undefined);
      }
    });
  }

  /** Edit the launch parameters of the policies and restart every replica with them. */
  private editPolicies(cycle: number): void {
    const rng = this.rng.fork(`edit ${cycle}`);
    this.revision++;
    const target = rng.pick(this.policies).pool;
    this.policies = this.policies.map((p) => (p.pool === target || rng.chance(0.3) ? editPolicy(p, rng, this.revision) : p));
    for (const r of this.replicas) {
      this.ledger.forget(r.process.name);
      r.restart(this.policies);
      this.track(r.process);
    }
    this.windows.count('policy-edit');
  }

  private record(cycle: number, findings: readonly Finding[]): void {
    const invariants = new Set<string>();
    for (const f of findings) {
      invariants.add(f.invariant);
      if (f.key !== undefined) {
        const key = `${f.invariant}|${f.key}`;
        const lastingSince = this.lasting.get(key);
        this.lasting.set(key, cycle);
        if (lastingSince === cycle - 1) continue;
      }
      this.violations.push({ seed: this.scenario.seed, cycle, invariant: f.invariant, detail: f.detail });
    }
    for (const i of invariants) this.cyclesInViolation[i] = (this.cyclesInViolation[i] ?? 0) + 1;
  }

  results(): Pick<SeedResult, 'violations' | 'cyclesInViolation' | 'injected' | 'effects'> {
    return {
      violations: this.violations,
      cyclesInViolation: this.cyclesInViolation,
      injected: this.windows.injected,
      effects: this.effects(),
    };
  }

  /** What the faults did, from the cloud's own logs. */
  private effects(): Record<string, number> {
    const out: Record<string, number> = {};
    const add = (k: string, n = 1) => {
      out[k] = (out[k] ?? 0) + n;
    };
    for (const c of this.cloud.calls) if (c.result !== 'ok') add(`EC2 ${c.action} ${c.result}`);
    for (const o of this.cloud.objects.log) {
      if (o.result === 'ServiceUnavailable') add(`S3 ${o.action} ServiceUnavailable`);
      if (o.corrupt) add('S3 GetObject garbled');
    }
    for (const e of this.cloud.world.events)
      if (e.kind !== 'launch' && e.kind !== 'running' && e.instance.tags['fleet:managed-by'] === SOAK_FLEET) add(`instances ${e.kind}`);
    add('launches (RunInstances ok)', this.cloud.calls.filter((c) => c.action === 'RunInstances' && c.result === 'ok').length);
    add('images drained by the guard', this.ledger.guardDrained.size);
    for (const [action, n] of Object.entries(this.stalls)) add(`leader stalled on ${action}`, n);
    for (const c of this.cloud.eventQueue.calls)
      add(c.action === 'ReceiveMessage' ? 'SQS messages received' : 'SQS messages deleted', c.count);
    add('turns run early on a warning', this.earlyTurns);
    for (const c of this.cloud.calls)
      if (c.action === 'CreateTags' && c.result === 'ok' && c.detail?.retire !== undefined)
        add('workers asked to leave (fleet:retire)', (c.detail.instanceIds as string[] | undefined)?.length ?? 0);
    add('asked workers powered off by their agent', this.agentsLeft);
    for (const [what, n] of Object.entries(this.judge.retireEnds)) add(what, n);
    const jobs = this.ci.tally();
    add('CI jobs completed', jobs.completed);
    for (const [cause, n] of Object.entries(jobs.killed)) add(`CI jobs lost to ${cause}`, n);
    return out;
  }
}
