// `fleet sim`: the real reconciler, unchanged, against the simulated AWS for a simulated period.

import type { Logger } from 'pino';
import type { FleetConfig } from '../config/config.js';
import type { PoolPolicy } from '../domain/policy.js';
import type { Lifecycle } from '../domain/types.js';
import { rolloutsOf } from '../plan/rollouts.js';
import { runLoop } from '../service/loop.js';
import { type Runtime, createRuntime } from '../service/runtime.js';
import { DRAINED_DOC, type DrainedDoc, RECONCILER_DOC } from '../service/state-docs.js';
import { simInstanceTypes } from '../fake-cloud/catalog.js';
import { CauseTally } from './causes.js';
import { SimCloud, type SimCloudOptions } from '../fake-cloud/cloud.js';
import { Prng } from '../fake-cloud/prng.js';
import { type Sample, Sampler } from './sampler.js';
import { SIM_EVENTS_QUEUE_URL } from '../fake-cloud/sqs.js';
import { type CiOptions, SimCi } from './ci/ci.js';
import { WorldWorkers, retiredWorkersLeave } from './ci/world-workers.js';
import { type DesiredForm, curveDocument, desiredDocument, wantedOf } from './ci/desired.js';
import { type SimSummary, summarise } from './summary.js';
import { CycleTally, WorldSteps } from './world-steps.js';
import { ImagePipeline, JobQueue, type PublishTarget, WORKING_HOURS, type WorkloadShape, idleWorkersLeave } from './workload.js';

/** Capacity taken away from matching offers during a window of the run. */
export interface Exhaustion {
  readonly lifecycle: Lifecycle;
  /** '*' for every type */
  readonly instanceType: string;
  /** '*' for every zone */
  readonly az: string;
  /** hours from the start; the whole run when absent */
  readonly fromHour?: number;
  readonly toHour?: number;
}

export interface SimRunOptions extends Pick<SimCloudOptions, 'seed' | 'start' | 'market' | 'world' | 'faults'> {
  readonly config: FleetConfig;
  readonly policies: readonly PoolPolicy[];
  readonly hours: number;
  readonly exhaust?: readonly Exhaustion[];
  /** the first nightly bake after this many hours is broken (its workers fail to boot) */
  readonly badImageAfterHour?: number;
  /**
   * wanted workers of a pool at a time, published as given; default: the simulated CI's queues.
   * Jobs arrive along the same curve either way.
   */
  readonly demand?: (pool: string, t: number) => number;
  /** with `demand`: jobs arrive at this share of the curve's workers [1, as many as it wants] */
  readonly jobLoad?: number;
  /** how the simulated CI publishes desired counts: plain counts [default] or the per-pool queue form */
  readonly desiredForm?: DesiredForm;
  /** the shape of the CI's day ['day']; its working hours are summarised apart */
  readonly workload?: WorkloadShape;
  /**
   * Each worker runs `fleet worker` with a hook that waits for its job [true]: one tagged `fleet:retire`
   * takes no new job, finishes the one it runs and powers off. false: the tag goes unread.
   */
  readonly workerAgent?: boolean;
  readonly ci?: CiOptions;
  /** the image pipeline bakes every night [true]; false: only the images it had before the start */
  readonly nightlyImages?: boolean;
  /** an EventBridge rule feeds EC2's events to a queue fleet reads between cycles (events.queue) */
  readonly events?: boolean;
  readonly log: Logger;
}

export interface SimRun {
  readonly summary: SimSummary;
  readonly samples: readonly Sample[];
  readonly cloud: SimCloud;
  readonly ci: SimCi;
  readonly workers: WorldWorkers;
}

const BUCKET = 'fleet-sim';

/** The config the simulation runs with: inputs and state live in the simulated S3, events (if on) in its queue. */
export function simConfig(config: FleetConfig, events = false): FleetConfig {
  return {
    ...config,
    manifest: `s3://${BUCKET}/amis.json`,
    desired: `s3://${BUCKET}/desired.json`,
    state: `s3://${BUCKET}/state/`,
    events: { queue: events ? SIM_EVENTS_QUEUE_URL : '' },
  };
}

export async function runSimulation(options: SimRunOptions): Promise<SimRun> {
  const { policies, seed, start, hours, log } = options;
  const config = simConfig(options.config, options.events);
  const end = start + hours * 3600_000;
  const cloud = new SimCloud({
    seed,
    start,
    market: { horizonMs: (hours + 24) * 3600_000, ...options.market },
    ...(options.world ? { world: options.world } : {}),
    ...(options.faults ? { faults: options.faults } : {}),
    events: options.events ?? false,
  });
  const rng = new Prng(seed).fork('workload');
  for (const region of config.regions) {
    const named = new Set(policies.flatMap((p) => p.regions[region]?.subnets ?? []));
    // With replayed prices, the policies' subnets go to the zones the recording covers.
    cloud.world.adoptSubnets(region, [...named].sort(), cloud.world.market.recordedZones(region));
  }
  cloud.objects.createBucket(BUCKET);
  const pipeline = new ImagePipeline(cloud.world, policies, config.regions);
  pipeline.seed(start, 3);
  pipeline.publish(cloud.objects, { bucket: BUCKET, key: 'amis.json' });
  const jobs = new JobQueue(policies, rng.fork('jobs'), options.workload);
  const agent = options.workerAgent ?? true;
  const workers = new WorldWorkers(cloud.world, undefined, agent);
  const ci = new SimCi(
    workers,
    policies.map((p) => p.pool),
    rng.fork('ci'),
    start,
    options.ci,
  );
  const runtime = createRuntime({ config, policies, cloud, clock: cloud.clock, log, random: () => rng.next() });

  const stepMs = config.interval * 1000;
  const sampler = new Sampler(
    cloud,
    policies,
    config.regions,
    { bucket: BUCKET, manifestKey: 'amis.json', drainedKey: `state/${DRAINED_DOC}`, journalKey: `state/${RECONCILER_DOC}` },
    start,
  );
  const samples: Sample[] = [];
  const causes = new CauseTally();
  let wanted: Record<string, number> = {};
  let load: Record<string, number> = {};
  let badBaked = false;
  const jobLoad = options.demand ? (options.jobLoad ?? 1) : 1;
  const jobsOf = (counts: Record<string, number>) =>
    jobLoad === 1 ? counts : Object.fromEntries(Object.entries(counts).map(([pool, n]) => [pool, n * jobLoad]));
  /** The world outside fleet, once an interval from the start: images, jobs, the CI's desired list. */
  const stepWorld = (t: number) => {
    cloud.settle();
    applyExhaustion(cloud, options.exhaust ?? [], start, t);
    const badBake = options.badImageAfterHour !== undefined && t - start >= options.badImageAfterHour * 3600_000 && !badBaked;
    if (options.nightlyImages !== false && pipeline.tick(t, badBake)) {
      if (badBake) badBaked = true;
      pipeline.publish(cloud.objects, { bucket: BUCKET, key: 'amis.json' });
    }
    jobs.tick(t, stepMs);
    const publishing = (t - start) % (5 * 60_000) < stepMs;
    if (publishing) load = options.demand ? demandAt(policies, options.demand, t) : jobs.counts(t);
    ci.advance(t, jobsOf(load));
    if (agent) retiredWorkersLeave(cloud.world, ci.busyWorkers());
    // The queue form's busy list is published each step (a CI publishes it as it changes): a stale
    // one could show idle a worker that has since taken a job.
    const form = options.desiredForm ?? 'counts';
    if (publishing || form === 'queue') {
      const target = { bucket: BUCKET, key: 'desired.json' };
      wanted = options.demand ? publish(cloud, target, load, ci, form) : publishQueues(cloud, target, ci, form);
    }
    idleWorkersLeave(cloud.world, policies, wanted, rng, stepMs, ci.busyWorkers());
  };
  const world = new WorldSteps(cloud.clock, start, end, stepMs, stepWorld);
  const tally = new CycleTally(cloud);

  // The service loop itself, on the simulated clock: the world steps as its sleeps and long polls
  // move time, and the run stops, as the service does on SIGTERM, at the end of the period.
  const stop = new AbortController();
  cloud.clock.beforeAdvance((to) => world.to(to));
  try {
    await cloud.clock.run(async () => {
      void cloud.clock.sleep(end - cloud.clock.now()).then(() => stop.abort());
      world.to(cloud.clock.now());
      await runLoop({
        reconciler: runtime.reconciler,
        intervalMs: stepMs,
        dryRun: false,
        log,
        signal: stop.signal,
        beforeCycle: async () => {
          tally.begin();
          return true;
        },
        onCycle: (result) => {
          if (result) {
            causes.observe(result.outcomes);
            // fleet's terminations, by the cause of the action, for the CI's count of jobs they threw away.
            workers.noteTerminations(result.outcomes);
          }
          // The report samples the first cycle after each step of the world; the others ran early, on a warning.
          const sampled = world.stepped();
          tally.end(result, sampled);
          if (!sampled) return;
          cloud.settle();
          samples.push(sampler.sample(wanted, cloud.clock.now(), ci.queueState()));
        },
        ...(runtime.inbox ? { events: { inbox: runtime.inbox, mayPoll: () => true } } : {}),
        clock: cloud.clock,
      });
    });
  } finally {
    cloud.clock.beforeAdvance(undefined);
  }
  cloud.clock.advanceTo(end);
  cloud.settle();
  ci.advance(end, jobsOf(load));
  // The report's own look at fleet's view is not part of the run: its calls are not counted.
  const [ec2Calls, s3Calls] = [cloud.calls.length, cloud.objects.log.length];
  const believed = await endState(runtime, policies, config.regions);
  cloud.calls.length = ec2Calls;
  cloud.objects.log.length = s3Calls;
  const summary = summarise({
    cloud,
    policies,
    samples,
    seed,
    start,
    end,
    ...tally.figures(),
    intervalMs: stepMs,
    rollouts: sampler.rollouts,
    causes,
    ci,
    workers,
    workingHours: WORKING_HOURS[options.workload ?? 'day'],
    ...believed,
  });
  return { summary, samples, cloud, ci, workers };
}

function demandAt(policies: readonly PoolPolicy[], demand: (pool: string, t: number) => number, t: number): Record<string, number> {
  return Object.fromEntries(policies.map((p) => [p.pool, demand(p.pool, t)]));
}

/** Desired counts as given (a fixed demand curve instead of the CI's queues); the queue form adds the busy workers. */
function publish(
  cloud: SimCloud,
  target: PublishTarget,
  counts: Record<string, number>,
  ci: SimCi,
  form: DesiredForm,
): Record<string, number> {
  cloud.objects.publish(target.bucket, target.key, `${JSON.stringify(curveDocument(counts, ci.queueState(), form), null, 1)}\n`);
  return counts;
}

/** The CI's desired document; returns the workers it asks for per pool. */
function publishQueues(cloud: SimCloud, target: PublishTarget, ci: SimCi, form: DesiredForm): Record<string, number> {
  const queues = ci.queueState();
  cloud.objects.publish(target.bucket, target.key, `${JSON.stringify(desiredDocument(queues, form), null, 1)}\n`);
  return wantedOf(queues);
}

/** What fleet itself believes at the end: current images (drains applied) and the drained AMIs. */
async function endState(runtime: Runtime, policies: readonly PoolPolicy[], regions: readonly string[]) {
  const { observation } = await runtime.reconciler.planOnly();
  const rollouts = rolloutsOf(observation.snapshot, policies);
  const currentImages: Record<string, string> = {};
  for (const p of policies) for (const r of regions) currentImages[`${p.pool} ${r}`] = rollouts.get(p.pool)?.get(r)?.launchImage?.id ?? '';
  const marks = (await runtime.state.read<DrainedDoc>(DRAINED_DOC))?.doc.amis ?? {};
  return { currentImages, drained: Object.entries(marks).map(([ami, m]) => ({ ami, by: m.by, reason: m.reason })) };
}

function applyExhaustion(cloud: SimCloud, rules: readonly Exhaustion[], start: number, t: number): void {
  for (const rule of rules) {
    const hour = (t - start) / 3600_000;
    const active = (rule.fromHour === undefined || hour >= rule.fromHour) && (rule.toHour === undefined || hour < rule.toHour);
    for (const region of cloud.world.regions()) {
      for (const az of cloud.world.azs(region)) {
        if (rule.az !== '*' && rule.az !== az) continue;
        const types = rule.instanceType === '*' ? simInstanceTypes() : [rule.instanceType];
        for (const type of types) cloud.world.market.setCapacity(az, type, rule.lifecycle, active ? 0 : undefined);
      }
    }
  }
}
