import type { Logger } from 'pino';
import { guardCloud } from '../cloud/guarded-cloud.js';
import { CallCounter } from '../cloud/guarded.js';
import type { Cloud } from '../cloud/port.js';
import type { FleetConfig } from '../config/config.js';
import type { Clock } from '../domain/clock.js';
import type { PoolPolicy } from '../domain/policy.js';
import type { Image } from '../domain/types.js';
import { parseDesired } from '../manifest/desired.js';
import { parseManifest } from '../manifest/manifest.js';
import { CapacityMemory } from './capacity-memory.js';
import { EventInbox } from './event-inbox.js';
import { InputReader } from './inputs.js';
import { Observer } from './observe.js';
import { PriceCache } from './price-cache.js';
import { Reconciler } from './reconciler.js';
import { type StateStore, openStateStore } from './state-store.js';

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
  readonly mayMutate?: () => boolean;
}

export interface Runtime {
  readonly cloud: Cloud;
  readonly state: StateStore;
  readonly observer: Observer;
  readonly reconciler: Reconciler;
  readonly calls: CallCounter;
  /** EC2's events from `events.queue`, when it is set */
  readonly inbox?: EventInbox;
}

/** Wire config, policies and a cloud into a reconciler. */
export function createRuntime(options: RuntimeOptions): Runtime {
  const { config, policies, clock, log } = options;
  const calls = new CallCounter();
  const cloud = guardCloud(options.cloud, {
    clock,
    random: options.random,
    counter: calls,
    onRetry: (region, action, error, attempt, delayMs) => log.debug({ region, action, code: error.code, attempt, delayMs }, 'retrying'),
  });
  const state = openStateStore(config.state, cloud.objects);
  const readOnlyState: StateStore = options.readOnly
    ? { where: state.where, read: (name) => state.read(name), write: async () => '' }
    : state;
  const manifestOptions = { poolTag: config.manifestTags.pool, createdTag: config.manifestTags.created };
  const now = () => clock.now();
  const manifest = new InputReader<Image[]>('manifest', config.manifest, (t) => parseManifest(t, manifestOptions), cloud.objects, readOnlyState, log, now);
  const desired = new InputReader<Record<string, number>>('desired', config.desired, parseDesired, cloud.objects, readOnlyState, log, now);
  const capacity = new CapacityMemory(config.capacityTtl * 1000);
  const observer = new Observer({ config, policies, cloud, state, clock, log, prices: new PriceCache(config.priceTtl * 1000, log), capacity, desired, manifest });
  const reconciler = new Reconciler({
    fleet: config.fleet,
    policies,
    cloud,
    state,
    clock,
    log,
    observer,
    capacity,
    ...(options.mayMutate ? { mayMutate: options.mayMutate } : {}),
  });
  const inbox = eventInbox(options, cloud, state);
  return { cloud, state, observer, reconciler, calls, ...(inbox ? { inbox } : {}) };
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
