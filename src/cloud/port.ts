// The Cloud port: what fleet needs from a cloud, in the fleet's own words.
// Two implementations: the AWS adapter (cloud/aws) and the simulated cloud (fake-cloud/).

import type { Cause } from '../domain/causes.js';
import type { Instance, Lifecycle, SpotPrice, Subnet } from '../domain/types.js';

/** One instance of a launch call: its slot name and, for a replacement, the instance it replaces and why. */
export interface LaunchSlot {
  readonly name: string;
  readonly replaces?: string;
  readonly cause?: Cause;
}

/**
 * One RunInstances call: up to `slots.length` instances of one offer from one image, each with its own
 * slot name (in launch-index order). It is journaled before it is sent and re-sent only exactly as it is.
 */
export interface LaunchRequest {
  readonly fleet: string;
  readonly pool: string;
  readonly region: string;
  readonly az: string;
  readonly subnetId: string;
  readonly securityGroups: readonly string[];
  /** undefined leaves the public address to the subnet's own setting */
  readonly publicIp?: boolean;
  readonly instanceType: string;
  readonly lifecycle: Lifecycle;
  readonly ami: string;
  /** spot only: dollars per hour; undefined lets EC2 cap at the on-demand price */
  readonly maxPrice?: number;
  readonly keyName?: string;
  readonly instanceProfile?: string;
  /** rendered user data, plain text (the adapter encodes it) */
  readonly userData?: string;
  readonly clientToken: string;
  /** MaxCount is their number */
  readonly slots: readonly LaunchSlot[];
  /** fewest instances the call may make (EC2's MinCount); fleet asks for all of them: the default */
  readonly minCount?: number;
  /** written on every instance and volume at launch (see cloud/tags.ts) */
  readonly tags: Readonly<Record<string, string>>;
}

/** One worker fleet asks to leave: by `deadline` (epoch ms), and why. */
export interface RetireRequest {
  readonly id: string;
  readonly deadline: number;
  readonly cause: Cause;
}

/** One page of a listing; `next` is absent on the last page. */
export interface Page<T> {
  readonly items: readonly T[];
  readonly next?: string;
}

/** Per-call options. */
/** A read's call options and the most bytes it may bring. */
export interface ReadOptions extends CallOptions {
  readonly maxBytes?: number;
}

export interface CallOptions {
  /** aborted when the call is past its deadline, the process shuts down, or (mutating calls) the leader lease runs out */
  readonly signal?: AbortSignal;
}

export interface SpotPriceQuery {
  readonly instanceTypes: readonly string[];
  readonly productDescription: string;
  /** epoch ms: the prices in effect at this time and after */
  readonly since: number;
  /** epoch ms: and up to this time [now] */
  readonly until?: number;
}

/** An AMI as EC2 describes it (only what the janitor needs). */
export interface ImageRecord {
  readonly id: string;
  readonly region: string;
  readonly name: string;
  readonly state: string;
  /** the fleet:managed-by tag, if any: prune only touches images carrying the fleet's own */
  readonly managedBy?: string;
  readonly snapshotIds: readonly string[];
}

/** Compute in one region. Implementations throw the cloud's own errors; cloud/errors.ts classifies them. */
export interface RegionCompute {
  readonly region: string;
  /**
   * One page of the instances carrying `fleet:managed-by=<fleet>`, in any state still listed; `next`
   * asks for the following page. Pages are fetched one call each, so each is rate limited and retried
   * on its own (see pages.ts for the whole list).
   */
  listInstancesPage(fleet: string, next?: string, options?: CallOptions): Promise<Page<Instance>>;
  /** The subnets among `ids` that exist; missing ones are left out, not an error. */
  describeSubnets(ids: readonly string[], options?: CallOptions): Promise<Subnet[]>;
  /** One page of spot price history for the query's types and product description. */
  spotPriceHistoryPage(query: SpotPriceQuery, next?: string, options?: CallOptions): Promise<Page<SpotPrice>>;
  /**
   * Launch up to `request.slots.length` instances, tagged at launch, with the request's idempotency
   * token; the same token again answers with the instances the first call made. Returns them in
   * launch-index order (at least one).
   */
  launch(request: LaunchRequest, options?: CallOptions): Promise<Instance[]>;
  /**
   * Set `Name` (and `fleet:replaces`) on one instance of a batched launch, to its own slot. Only ever
   * called with ids from this fleet's own launch answers or ownership-filtered listings.
   */
  nameInstance(id: string, slot: LaunchSlot, options?: CallOptions): Promise<void>;
  /**
   * Terminate those of `ids` that carry this fleet's ownership tag; others are never touched.
   * Returns the ids it asked the cloud to terminate.
   */
  terminate(fleet: string, ids: readonly string[], options?: CallOptions): Promise<string[]>;
  /**
   * Ask workers to leave: tag each of `requests` that carries this fleet's ownership tag with
   * `fleet:retire` (its deadline) and `fleet:retire-cause`; others are never touched. Returns the ids tagged.
   */
  retire(fleet: string, requests: readonly RetireRequest[], options?: CallOptions): Promise<string[]>;
  /** Images among `ids` owned by this account; others are left out. */
  describeImages(ids: readonly string[], options?: CallOptions): Promise<ImageRecord[]>;
  /**
   * Which of `ids` are owned by one of `owners` (`self`: this account, or 12-digit account ids), as
   * EC2's DescribeImages answers with those owners; ids that do not exist are left out, not an error.
   */
  imagesOwnedBy(owners: readonly string[], ids: readonly string[], options?: CallOptions): Promise<Set<string>>;
  /** Which of `ids` any instance in the account (managed or not, in any state but terminated) uses. */
  imagesInUse(ids: readonly string[], options?: CallOptions): Promise<Set<string>>;
  /**
   * Deregister an image and delete its snapshots, only if the image (and each snapshot) carries
   * this fleet's ownership tag. Returns the snapshot ids deleted.
   */
  deregisterImage(fleet: string, id: string, options?: CallOptions): Promise<{ deregistered: boolean; snapshotsDeleted: string[] }>;
}

export interface StoredObject {
  readonly body: string;
  readonly etag: string;
}

export interface WriteCondition {
  /** write only if the object still has this etag */
  readonly ifMatch?: string;
  /** write only if the object does not exist yet */
  readonly ifNoneMatch?: '*';
}

/** Objects addressed by bucket and key (S3, or the simulator's buckets). */
export interface ObjectStore {
  /**
   * undefined when the object does not exist; 'not-modified' when it still has `ifNoneMatch` as etag.
   * An object over `options.maxBytes` throws, and is not downloaded past that.
   */
  get(bucket: string, key: string, ifNoneMatch?: string, options?: ReadOptions): Promise<StoredObject | 'not-modified' | undefined>;
  /** Throws a precondition error (classified 'conflict') when the condition does not hold. */
  put(bucket: string, key: string, body: string, condition?: WriteCondition, options?: CallOptions): Promise<{ etag: string }>;
}

/** On-demand list prices, dollars per instance-hour, keyed by instance type. */
export interface PriceList {
  onDemandPrices(region: string, instanceTypes: readonly string[], productDescription: string): Promise<Record<string, number>>;
}

/** One message of a queue, as received: its body and the handle that deletes it. */
export interface QueueMessage {
  readonly id: string;
  readonly body: string;
  /** the receipt handle of this delivery (each delivery has its own) */
  readonly handle: string;
}

/**
 * A queue an EventBridge rule feeds with EC2 events (SQS, or the simulator's). Delivery is at least
 * once and unordered; a message received and not deleted comes back after its visibility timeout.
 */
export interface EventQueue {
  readonly url: string;
  /** Up to 10 messages, waiting up to `maxWaitSeconds` (at most 20) for the first one; `signal` ends the wait. */
  receive(maxWaitSeconds: number, signal?: AbortSignal): Promise<QueueMessage[]>;
  /** Delete delivered messages, in batches; returns the handles the queue refused (they come back later). */
  delete(handles: readonly string[]): Promise<{ readonly failed: readonly string[] }>;
}

export interface Cloud {
  compute(region: string): RegionCompute;
  readonly objects: ObjectStore;
  readonly priceList: PriceList;
  /** The event queue at `queueUrl`, where the cloud has one. */
  events?(queueUrl: string): EventQueue;
  /**
   * A cloud over a network bounds each whole call, its retries included: a new signal per call,
   * aborted at the call's deadline or when the process shuts down (the simulator has none).
   */
  readonly deadlines?: { readonly compute: () => AbortSignal; readonly objects: () => AbortSignal };
}
