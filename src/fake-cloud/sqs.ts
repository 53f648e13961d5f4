// A simulated SQS queue fed by the simulated EventBridge rule with the world's EC2 events, on the
// simulated clock: long polling, up to 10 messages a receive, a visibility timeout after which an
// undeleted message comes back, a fresh receipt handle per delivery. Simulated.

import type { EventQueue, QueueMessage } from '../cloud/port.js';
import type { Clock } from '../domain/clock.js';
import { SIM_ACCOUNT, eventBridgeBody } from './eventbridge.js';
import { SimAwsError } from './faults.js';
import type { SimWorld } from './world.js';

/** The queue the simulated rule delivers to. */
export const SIM_EVENTS_QUEUE_URL = `https://sqs.us-east-1.amazonaws.com/${SIM_ACCOUNT}/fleet-ec2-events`;

const BATCH = 10;
const MAX_WAIT_SECONDS = 20;
/** SQS's default visibility timeout. */
const VISIBILITY_TIMEOUT_MS = 30_000;
/** How often a waiting receive looks at the world again: a new event is received within this. */
const POLL_SLICE_MS = 5_000;
const API_LATENCY_MS = 20;
/** Messages a duplicate delivery may copy. */
const RECENT = 50;

interface SimMessage {
  readonly id: string;
  readonly body: string;
  /** when it was queued (this copy, for a duplicate) */
  readonly queuedAt: number;
  visibleAt: number;
  handle?: string;
}

export interface SimQueueCall {
  readonly t: number;
  readonly action: 'ReceiveMessage' | 'DeleteMessageBatch';
  /** messages received or deleted */
  readonly count: number;
  /** ReceiveMessage: the ids of the messages delivered */
  readonly ids?: readonly string[];
}

export class SimEventQueue implements EventQueue {
  /** the world's events already turned into messages (or skipped, while delivery is off) */
  private cursor = 0;
  private seq = 0;
  private sent = 0;
  private readonly messages: SimMessage[] = [];
  /** the last messages queued, for duplicate deliveries */
  private readonly recent: { readonly id: string; readonly body: string }[] = [];
  readonly calls: SimQueueCall[] = [];
  /** set by tests: every call fails as if the queue could not be reached */
  unreachable = false;

  constructor(
    readonly url: string,
    private readonly world: SimWorld,
    private readonly clock: Clock,
    /** whether the rule delivers: a run without events leaves the queue empty */
    private readonly delivering: boolean,
  ) {}

  /**
   * SendMessage: anyone the queue policy lets in may write to the queue, so not every message is
   * one of EventBridge's (the soak sends some that are not).
   */
  send(body: string): string {
    this.collect();
    const id = `sim-sent-${this.sent++}`;
    this.enqueue(id, body);
    return id;
  }

  /**
   * SQS delivers at least once: a copy of one of the last messages queued (the `nth` newest, counting
   * from 0) comes again, with the same id, whether or not the first was deleted. Returns its id.
   */
  duplicate(nth: number): string | undefined {
    this.collect();
    const original = this.recent[this.recent.length - 1 - nth];
    if (original === undefined) return undefined;
    this.messages.push({ id: original.id, body: original.body, queuedAt: this.clock.now(), visibleAt: this.clock.now() });
    return original.id;
  }

  /** Messages in the queue, in flight or not. */
  get depth(): number {
    this.collect();
    return this.messages.length;
  }

  /** The messages in the queue (in flight or not), oldest first: what the soak judges. */
  queued(): { readonly id: string; readonly queuedAt: number; readonly received: boolean }[] {
    this.collect();
    return this.messages.map((m) => ({ id: m.id, queuedAt: m.queuedAt, received: m.handle !== undefined }));
  }

  async receive(maxWaitSeconds: number, signal?: AbortSignal): Promise<QueueMessage[]> {
    await this.clock.sleep(API_LATENCY_MS);
    this.check();
    const deadline = this.clock.now() + Math.max(0, Math.min(MAX_WAIT_SECONDS, Math.floor(maxWaitSeconds))) * 1000;
    for (;;) {
      this.collect();
      const now = this.clock.now();
      const ready = this.messages.filter((m) => m.visibleAt <= now).slice(0, BATCH);
      if (ready.length > 0 || now >= deadline || signal?.aborted) {
        for (const m of ready) {
          m.visibleAt = now + VISIBILITY_TIMEOUT_MS;
          m.handle = `${m.id}#${this.seq++}`;
        }
        this.calls.push({ t: now, action: 'ReceiveMessage', count: ready.length, ids: ready.map((m) => m.id) });
        return ready.map((m) => ({ id: m.id, body: m.body, handle: m.handle as string }));
      }
      await this.clock.sleep(Math.min(POLL_SLICE_MS, deadline - now), signal);
    }
  }

  async delete(handles: readonly string[]): Promise<{ failed: string[] }> {
    await this.clock.sleep(API_LATENCY_MS);
    this.check();
    const failed: string[] = [];
    let deleted = 0;
    for (const handle of handles) {
      // A handle from an earlier delivery no longer names the message (SQS: ReceiptHandleIsInvalid).
      const at = this.messages.findIndex((m) => m.handle === handle);
      if (at < 0) failed.push(handle);
      else {
        this.messages.splice(at, 1);
        deleted++;
      }
    }
    this.calls.push({ t: this.clock.now(), action: 'DeleteMessageBatch', count: deleted });
    return { failed };
  }

  /** Bring the world up to the clock and enqueue what it emitted since the last look. */
  private collect(): void {
    this.world.advanceTo(this.clock.now());
    const events = this.world.events;
    for (; this.cursor < events.length; this.cursor++) {
      if (!this.delivering) continue;
      const body = eventBridgeBody(events[this.cursor] as (typeof events)[number], this.cursor);
      if (body !== undefined) this.enqueue(messageId(this.cursor), body);
    }
  }

  private enqueue(id: string, body: string): void {
    this.messages.push({ id, body, queuedAt: this.clock.now(), visibleAt: this.clock.now() });
    this.recent.push({ id, body });
    if (this.recent.length > RECENT) this.recent.splice(0, this.recent.length - RECENT);
  }

  private check(): void {
    if (this.unreachable) throw Object.assign(new Error('connect ECONNREFUSED (simulated)'), { code: 'ECONNREFUSED' });
  }
}

/** The id of the message carrying the world's n-th event. */
export function messageId(n: number): string {
  return `sim-message-${n}`;
}

/** The answer to any other queue URL: SQS's own for a queue that does not exist. */
export class MissingQueue implements EventQueue {
  constructor(readonly url: string) {}

  async receive(): Promise<QueueMessage[]> {
    throw new SimAwsError('AWS.SimpleQueueService.NonExistentQueue', 'The specified queue does not exist.', 400);
  }

  async delete(): Promise<{ failed: string[] }> {
    throw new SimAwsError('AWS.SimpleQueueService.NonExistentQueue', 'The specified queue does not exist.', 400);
  }
}
