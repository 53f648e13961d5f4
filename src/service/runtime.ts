import type { Logger } from 'pino';
import { type GuardedCloud, guardCloud } from '../cloud/guarded-cloud.js';
import { CallCounter } from '../cloud/guarded.js';
import type { Cloud } from '../cloud/port.js';
import type { FleetConfig } from '../config/config.js';
import type { Clock } from '../domain/clock.js';
import type { PoolPolicy } from '../domain/policy.js';
import { CapacityMemory } from './capacity-memory.js';
import type { DemandSource } from '../demand/source.js';
import { demandReader } from '../demand/sources.js';
import { EventInbox } from './event-inbox.js';
import { desiredInput, manifestInput } from '../shared/inputs.js';
import { Observer } from './observe.js';
import { PriceCache } from './price-cache.js';
import { type LeaseKeeper, Reconciler } from './reconciler.js';
import { type StateStore, openStateStore, readOnlyStateStore } from '../shared/state-store.js';

export interface RuntimeOptions {
  readonly config: FleetConfig;
  readonly policies: readonly PoolPolicy[];
  /** the raw cloud: the AWS adapter or the simulator */
  readonly cloud: Cloud;
  readonly clock: Clock;
  readonly log: Logger;
  readonly random: () => number;
  /** plan and dry-run: nothing is written anywhere, not even the last good inputs */
  readonly readOnly?: boolean;
  /**
   * The leader lease, made on the runtime's own state store: the fence of every mutating call and of
   * the journal. Without one, this process always acts (tests, simulations of a single replica).
   */
  readonly leaseFor?: (state: StateStore) => LeaseKeeper;
  /** an SQS queue's depth as a pool's jobs (policy demand.source.sqs) */
  readonly sqsDepth?: (pool: string, queueUrl: string) => DemandSource;
}

export interface Runtime {
  readonly cloud: GuardedCloud;
  readonly state: StateStore;
  readonly observer: Observer;
  readonly reconciler: Reconciler;
  readonly calls: CallCounter;
  readonly lease?: LeaseKeeper;
  /** EC2's events from `events.queue`, when it is set */
  readonly inbox?: EventInbox;
}

/** Wire config, policies and a cloud into a reconciler. */
export function createRuntime(options: RuntimeOptions): Runtime {
  const { config, policies, clock, log } = options;
  const calls = new CallCounter();
  // The lease lives on the state store the runtime itself reads and writes; the cloud's fence asks it.
  // eslint-disable-next-line prefer-const -- the fence reads it before the state store that makes it exists
  let lease: LeaseKeeper | undefined;
  const fence = { holds: () => lease?.holds() ?? true, remainingMs: () => lease?.remainingMs() ?? Number.POSITIVE_INFINITY };
  const cloud = guardCloud(options.cloud, {
    clock,
    random: options.random,
    counter: calls,
    onRetry: (region, action, error, attempt, delayMs) => log.debug({ region, action, code: error.code, attempt, delayMs }, 'retrying'),
    ...(log.isLevelEnabled('debug')
      ? { onCall: (region: string, action: string, outcome: string) => log.debug({ region, action, outcome }, 'cloud call') }
      : {}),
    fence,
  });
  const state = openStateStore(config.state, cloud.objects);
  lease = options.leaseFor?.(state);
  const readOnlyState = options.readOnly ? readOnlyStateStore(state) : state;
  const now = () => clock.now();
  const manifest = manifestInput(config, cloud.objects, readOnlyState, log, now);
  const desired = desiredInput(config, policies, cloud.objects, readOnlyState, log, now);
  const capacity = new CapacityMemory(config.capacityTtl * 1000);
  const inbox = eventInbox(options, cloud, state);
  const demand = demandReader(policies, { state, now, log, ...(options.sqsDepth ? { sqsDepth: options.sqsDepth } : {}) });
  const observer = new Observer({
    config,
    policies,
    cloud,
    state,
    clock,
    log,
    prices: new PriceCache(config.priceTtl * 1000, log),
    capacity,
    desired,
    manifest,
    capacityTtlMs: config.capacityTtl * 1000,
    ...(inbox ? { events: inbox } : {}),
    ...(demand ? { demand } : {}),
  });
  const reconciler = new Reconciler({
    fleet: config.fleet,
    policies,
    cloud,
    state,
    clock,
    log,
    observer,
    capacity,
    visibilityTimeoutMs: config.visibilityTimeout * 1000,
    ...(lease ? { lease } : {}),
  });
  return { cloud, state, observer, reconciler, calls, ...(lease ? { lease } : {}), ...(inbox ? { inbox } : {}) };
}

function eventInbox(options: RuntimeOptions, cloud: Cloud, state: StateStore): EventInbox | undefined {
  const url = options.config.events.queue;
  if (url === '') return undefined;
  if (!cloud.events) {
    options.log.warn({ queue: url }, 'this cloud has no event queues; events.queue is ignored');
    return undefined;
  }
  return new EventInbox({ queue: cloud.events(url), state, clock: options.clock, log: options.log, readOnly: options.readOnly ?? false });
}
