// One fleet process's connection to the simulated cloud, for the soak: it counts the process's
// calls, can kill the process or stall it at a chosen call, and writes down what the process sent.
// Harness-only: fleet's own code never sees any of this, it sees a Cloud.

import type {
  CallOptions,
  Cloud,
  EventQueue,
  ImageRecord,
  LaunchRequest,
  LaunchSlot,
  ObjectStore,
  Page,
  PriceList,
  RegionCompute,
  RetireRequest,
  SpotPriceQuery,
  StoredObject,
  WriteCondition,
} from '../../src/cloud/port.js';
import type { Clock } from '../../src/domain/clock.js';
import type { Instance, SpotPrice, Subnet } from '../../src/domain/types.js';

/** The process died at this call. Thrown only by the soak harness, never by fleet or the simulator. */
export class ProcessKilled extends Error {
  override readonly name = 'ProcessKilled';
}

/** A call that changes something, as the process sent it. */
export interface SentCall {
  /** simulated time the call left the process */
  readonly t: number;
  /** the replica (lease holder) this process runs as */
  readonly replica: string;
  /** one process of that replica (a restarted process is another one) */
  readonly process: string;
  readonly action: 'RunInstances' | 'TerminateInstances' | 'CreateTags' | 'DeregisterImage' | 'PutObject';
  readonly region?: string;
  readonly clientToken?: string;
  readonly ami?: string;
  readonly name?: string;
  readonly pool?: string;
  readonly instanceIds?: readonly string[];
  readonly imageId?: string;
  readonly key?: string;
}

/** A read answered with a body, as the process received it (possibly garbled on the way). */
export interface Delivery {
  readonly t: number;
  readonly process: string;
  readonly bucket: string;
  readonly key: string;
  readonly body: string;
}

/**
 * How the process meets its end at its `atCall`-th call from now:
 * - kill: it dies there, before the call leaves or right after (the answer never reaches it); from
 *   then on every call of the process is refused, from whichever branch;
 * - stall: the call leaves, but its answer is held until `release()` (a hung connection, a frozen VM).
 */
export type Trap = ({ readonly kind: 'kill'; readonly afterSend: boolean } | { readonly kind: 'stall' }) & {
  readonly atCall: number;
  /** count only calls whose description starts with this, e.g. "RunInstances" or "PutObject state/reconciler.json" */
  readonly on?: string;
};

export interface ProcessCloudOptions {
  readonly replica: string;
  readonly process: string;
  readonly clock: Clock;
  /** reads whose answers are kept as deliveries */
  readonly watchReads?: (bucket: string, key: string) => boolean;
}

export class ProcessCloud implements Cloud {
  readonly sent: SentCall[] = [];
  readonly deliveries: Delivery[] = [];
  readonly objects: ObjectStore;
  readonly priceList: PriceList;
  private calls = 0;
  private trap: (Trap & { seen: number }) | undefined;
  private killed = false;
  /** the call a trap sprang on, e.g. "PutObject state/reconciler.json" */
  sprungOn: string | undefined;
  private stall: { readonly sprung: Promise<void>; spring: () => void; readonly gate: Promise<void>; open: () => void } | undefined;
  private readonly computes = new Map<string, RegionCompute>();

  constructor(
    private readonly raw: Cloud,
    private readonly options: ProcessCloudOptions,
  ) {
    this.objects = {
      get: (bucket, key, ifNoneMatch, read) =>
        this.call(`GetObject ${key}`, () => raw.objects.get(bucket, key, ifNoneMatch, read)).then((got) =>
          this.delivered(bucket, key, got),
        ),
      put: (bucket, key, body, condition?: WriteCondition) =>
        this.call(`PutObject ${key}`, () => raw.objects.put(bucket, key, body, condition), {
          action: 'PutObject',
          key: `${bucket}/${key}`,
        }),
    };
    this.priceList = {
      onDemandPrices: (region, types, pd) => this.call('GetProducts', () => raw.priceList.onDemandPrices(region, types, pd)),
    };
  }

  get name(): string {
    return this.options.process;
  }

  get dead(): boolean {
    return this.killed;
  }

  /** Calls the process has made so far (refused ones after its death included). */
  get callCount(): number {
    return this.calls;
  }

  /** Set a trap `atCall` calls from now (1: the very next call). A stall's promise resolves when it springs. */
  arm(trap: Trap): Promise<void> {
    this.trap = { ...trap, seen: 0 };
    this.stall = undefined;
    this.sprungOn = undefined;
    if (trap.kind === 'kill') return Promise.resolve();
    let spring = () => undefined as void;
    let open = () => undefined as void;
    const sprung = new Promise<void>((resolve) => {
      spring = resolve;
    });
    const gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    this.stall = { sprung, spring, gate, open };
    return sprung;
  }

  /** Remove a trap that has not sprung. */
  disarm(): void {
    this.trap = undefined;
  }

  /** Let a stalled call's answer through. */
  release(): void {
    this.stall?.open();
  }

  compute(region: string): RegionCompute {
    let compute = this.computes.get(region);
    if (!compute) {
      compute = this.regionCompute(region);
      this.computes.set(region, compute);
    }
    return compute;
  }

  /** The event queue, through this process: a dead process reaches it no more than EC2. */
  events(queueUrl: string): EventQueue {
    const raw = this.raw.events?.(queueUrl);
    if (!raw) throw new Error('the soak runs on a cloud with event queues');
    return {
      url: raw.url,
      receive: (maxWaitSeconds, signal) => this.call('ReceiveMessage', () => raw.receive(maxWaitSeconds, signal)),
      delete: (handles) => this.call('DeleteMessageBatch', () => raw.delete(handles)),
    };
  }

  private regionCompute(region: string): RegionCompute {
    const raw = () => this.raw.compute(region);
    return {
      region,
      listInstancesPage: (fleet: string, next?: string): Promise<Page<Instance>> =>
        this.call('DescribeInstances', () => raw().listInstancesPage(fleet, next)),
      describeSubnets: (ids: readonly string[]): Promise<Subnet[]> => this.call('DescribeSubnets', () => raw().describeSubnets(ids)),
      spotPriceHistoryPage: (query: SpotPriceQuery, next?: string): Promise<Page<SpotPrice>> =>
        this.call('DescribeSpotPriceHistory', () => raw().spotPriceHistoryPage(query, next)),
      launch: (r: LaunchRequest, o?: CallOptions): Promise<Instance[]> => {
        const names = r.slots.map((s) => s.name).join(',');
        return this.call(`RunInstances ${names}`, () => raw().launch(r, o), {
          action: 'RunInstances',
          region,
          clientToken: r.clientToken,
          ami: r.ami,
          name: names,
          pool: r.pool,
        });
      },
      nameInstance: (id: string, slot: LaunchSlot, o?: CallOptions): Promise<void> =>
        this.call('CreateTags', () => raw().nameInstance(id, slot, o), { action: 'CreateTags', region, instanceIds: [id] }),
      terminate: (fleet: string, ids: readonly string[], o?: CallOptions): Promise<string[]> =>
        this.call('TerminateInstances', () => raw().terminate(fleet, ids, o), {
          action: 'TerminateInstances',
          region,
          instanceIds: [...ids],
        }),
      retire: (fleet: string, requests: readonly RetireRequest[], o?: CallOptions): Promise<string[]> =>
        this.call('CreateTags', () => raw().retire(fleet, requests, o), {
          action: 'CreateTags',
          region,
          instanceIds: requests.map((r) => r.id),
        }),
      describeImages: (ids: readonly string[]): Promise<ImageRecord[]> => this.call('DescribeImages', () => raw().describeImages(ids)),
      imagesOwnedBy: (owners: readonly string[], ids: readonly string[]): Promise<Set<string>> =>
        this.call('DescribeImages', () => raw().imagesOwnedBy(owners, ids)),
      imagesInUse: (ids: readonly string[]): Promise<Set<string>> => this.call('DescribeInstances', () => raw().imagesInUse(ids)),
      deregisterImage: (fleet: string, id: string, o?: CallOptions) =>
        this.call('DeregisterImage', () => raw().deregisterImage(fleet, id, o), { action: 'DeregisterImage', region, imageId: id }),
    };
  }

  private async call<T>(what: string, send: () => Promise<T>, mutation?: Omit<SentCall, 't' | 'replica' | 'process'>): Promise<T> {
    if (this.killed) throw new ProcessKilled(`process ${this.options.process} is dead`);
    this.calls++;
    const armed = this.trap;
    if (armed && (armed.on === undefined || what.startsWith(armed.on))) armed.seen++;
    const trap = armed && armed.seen === armed.atCall ? armed : undefined;
    if (trap) this.sprungOn = what;
    if (trap?.kind === 'kill') {
      this.killed = true;
      this.trap = undefined;
      if (trap.afterSend) this.send(send, mutation).catch(() => undefined);
      throw new ProcessKilled(`process ${this.options.process} killed at its call ${this.calls}`);
    }
    if (trap?.kind === 'stall' && this.stall) {
      this.trap = undefined;
      const answer = this.send(send, mutation);
      answer.catch(() => undefined);
      this.stall.spring();
      await this.stall.gate;
      return answer;
    }
    return this.send(send, mutation);
  }

  private send<T>(send: () => Promise<T>, mutation?: Omit<SentCall, 't' | 'replica' | 'process'>): Promise<T> {
    if (mutation)
      this.sent.push({ t: this.options.clock.now(), replica: this.options.replica, process: this.options.process, ...mutation });
    return send();
  }

  private delivered(
    bucket: string,
    key: string,
    got: StoredObject | 'not-modified' | undefined,
  ): StoredObject | 'not-modified' | undefined {
    if (!this.killed && got !== undefined && got !== 'not-modified' && this.options.watchReads?.(bucket, key)) {
      this.deliveries.push({ t: this.options.clock.now(), process: this.options.process, bucket, key, body: got.body });
    }
    return got;
  }
}
