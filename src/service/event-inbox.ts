// The event inbox: EC2's events, delivered by an EventBridge rule to a queue, become facts in the
// state store (events.json). It records; it never launches or terminates anything (plan() decides).

import type { Logger } from 'pino';
import { classify } from '../cloud/errors.js';
import type { EventQueue, QueueMessage } from '../cloud/port.js';
import type { Clock } from '../domain/clock.js';
import { type Ec2Event, type Ec2EventKind, type EventFacts, NO_EVENT_FACTS } from '../domain/events.js';
import { EVENT_FACTS_TTL_MS, mergeFacts } from '../events/facts.js';
import { parseEventMessage } from '../events/parse.js';
import { EVENTS_DOC } from './state-docs.js';
import type { StateStore } from '../shared/state-store.js';

export type EventResult = 'handled' | 'malformed' | 'foreign';

export interface EventTally {
  /** 'unknown' for messages that are not events fleet reads */
  readonly kind: Ec2EventKind | 'unknown';
  readonly result: EventResult;
  readonly count: number;
}

export interface PollReport {
  /** distinct messages received */
  readonly received: number;
  /** messages dealt with and deleted, by kind and result */
  readonly tally: readonly EventTally[];
  /** interruption warnings among the recorded events: the next cycle should not wait */
  readonly warnings: number;
  /** why the poll stopped short (queue unreachable, facts not written); the messages stay queued */
  readonly failed?: string;
}

export interface EventInboxOptions {
  readonly queue: EventQueue;
  readonly state: StateStore;
  readonly clock: Clock;
  readonly log: Logger;
  /** how long facts are kept [an hour] */
  readonly ttlMs?: number;
  /** plan and dry runs: the queue is left alone (nothing would be written, so nothing may be deleted) */
  readonly readOnly?: boolean;
}

/** Long polls last at most this long at SQS. */
const MAX_WAIT_SECONDS = 20;
/** Messages gathered before one write of the facts (then the poll returns, and the next one goes on). */
const MAX_MESSAGES_PER_WRITE = 100;
const WRITE_ATTEMPTS = 5;
/** How long a single cycle's read of the queue waits for a first message. */
const QUEUED_WAIT_MS = 1_000;

export class EventInbox {
  constructor(private readonly options: EventInboxOptions) {}

  get queueUrl(): string {
    return this.options.queue.url;
  }

  /**
   * Receive for up to `maxWaitMs`: the first receive long-polls; once something arrives, what is
   * already queued is drained without waiting, the facts are merged into events.json, and only
   * then are the messages deleted. Never throws: an unreachable queue or a failed write is logged,
   * and the messages come back later (merging them twice is harmless).
   */
  async poll(maxWaitMs: number, signal?: AbortSignal): Promise<PollReport> {
    const { queue, clock, log } = this.options;
    if (this.options.readOnly) return { received: 0, tally: [], warnings: 0 };
    const deadline = clock.now() + Math.max(0, maxWaitMs);
    // By message id: a message delivered again within one poll (a short visibility timeout) is kept once, with its latest handle.
    const received = new Map<string, QueueMessage>();
    while (!signal?.aborted && received.size < MAX_MESSAGES_PER_WRITE) {
      const waitSeconds = received.size > 0 ? 0 : Math.min(MAX_WAIT_SECONDS, Math.max(0, Math.floor((deadline - clock.now()) / 1000)));
      const asked = clock.now();
      let batch: QueueMessage[];
      try {
        batch = await queue.receive(waitSeconds, signal);
      } catch (e) {
        if (signal?.aborted) break;
        const error = classify(e);
        log.warn(
          { queue: queue.url, code: error.code, class: error.errorClass, error: error.message },
          'event queue unreachable; fleet goes on without its events',
        );
        if (received.size === 0) return { received: 0, tally: [], warnings: 0, failed: `queue unreachable: ${error.message}` };
        break;
      }
      const fresh = batch.filter((m) => !received.has(m.id)).length;
      for (const m of batch) received.set(m.id, m);
      if (batch.length > 0 && fresh === 0) break; // only redeliveries: the queue has nothing new
      // An empty answer well before its wait was up means the queue does not long-poll: do not spin.
      const answeredEarly = clock.now() - asked < waitSeconds * 500;
      if (batch.length === 0 && (received.size > 0 || waitSeconds === 0 || answeredEarly || clock.now() >= deadline)) break;
    }
    return received.size === 0 ? { received: 0, tally: [], warnings: 0 } : this.settle([...received.values()]);
  }

  /**
   * What is queued now, for a single cycle (`reconcile --once`, run from cron, say): polls with a
   * one-second wait (a receive that waits asks every SQS server; one that does not may answer empty
   * with messages queued) until a poll comes back short, at most `maxPolls` times. Never throws.
   */
  async takeQueued(maxPolls = 10): Promise<PollReport> {
    const tally = new Map<string, EventTally>();
    let received = 0;
    let warnings = 0;
    for (let n = 0; n < maxPolls; n++) {
      const report = await this.poll(QUEUED_WAIT_MS);
      received += report.received;
      warnings += report.warnings;
      for (const t of report.tally) {
        const key = `${t.kind} ${t.result}`;
        tally.set(key, { ...t, count: (tally.get(key)?.count ?? 0) + t.count });
      }
      if (report.failed !== undefined) return { received, tally: [...tally.values()], warnings, failed: report.failed };
      if (report.received < MAX_MESSAGES_PER_WRITE) break;
    }
    return { received, tally: [...tally.values()], warnings };
  }

  /** The facts as they stand, pruned; an unreadable document counts as no facts (events are an optimisation). */
  async readFacts(): Promise<EventFacts> {
    try {
      const current = await this.options.state.read<unknown>(EVENTS_DOC);
      return mergeFacts(asFacts(current?.doc), [], this.options.clock.now(), this.ttlMs);
    } catch (e) {
      this.options.log.warn({ error: classify(e).message }, `state ${EVENTS_DOC} unreadable; going on without event facts`);
      return NO_EVENT_FACTS;
    }
  }

  private get ttlMs(): number {
    return this.options.ttlMs ?? EVENT_FACTS_TTL_MS;
  }

  private async settle(messages: readonly QueueMessage[]): Promise<PollReport> {
    const { queue, log } = this.options;
    const events: Ec2Event[] = [];
    const counts = new Map<string, number>();
    const count = (kind: EventTally['kind'], result: EventResult) =>
      counts.set(`${kind} ${result}`, (counts.get(`${kind} ${result}`) ?? 0) + 1);
    for (const m of messages) {
      const parsed = parseEventMessage(m.body, this.options.clock.now());
      if (parsed.ok) {
        events.push(parsed.event);
        count(parsed.event.kind, 'handled');
      } else {
        log.warn({ queue: queue.url, messageId: m.id, result: parsed.result, reason: parsed.reason }, 'event message dropped');
        count('unknown', parsed.result);
      }
    }
    if (events.length > 0) {
      try {
        await this.record(events);
      } catch (e) {
        const error = classify(e);
        log.warn(
          { code: error.code, class: error.errorClass, error: error.message, messages: messages.length },
          `state ${EVENTS_DOC} not written; the events stay queued`,
        );
        return { received: messages.length, tally: [], warnings: 0, failed: `facts not written: ${error.message}` };
      }
    }
    await this.deleteHandled(messages);
    const warnings = events.filter((e) => e.kind === 'interruption-warning').length;
    for (const e of events)
      if (e.kind !== 'state-change')
        log.info({ kind: e.kind, instance: e.instanceId, region: e.region, at: new Date(e.time).toISOString() }, 'EC2 event recorded');
    const tally = [...counts].map(([key, n]) => {
      const [kind, result] = key.split(' ') as [EventTally['kind'], EventResult];
      return { kind, result, count: n };
    });
    return { received: messages.length, tally, warnings };
  }

  /** Merge into events.json with a conditional write; a lost race is re-read and merged again. */
  private async record(events: readonly Ec2Event[]): Promise<void> {
    const { state, clock } = this.options;
    for (let attempt = 1; ; attempt++) {
      const current = await state.read<unknown>(EVENTS_DOC);
      const before = asFacts(current?.doc);
      const after = mergeFacts(before, events, clock.now(), this.ttlMs);
      if (current !== undefined && JSON.stringify(after) === JSON.stringify(current.doc)) return;
      try {
        await state.write(EVENTS_DOC, after, current?.etag);
        return;
      } catch (e) {
        if (classify(e).errorClass !== 'conflict' || attempt >= WRITE_ATTEMPTS) throw e;
      }
    }
  }

  private async deleteHandled(messages: readonly QueueMessage[]): Promise<void> {
    const { queue, log } = this.options;
    const handles = [...new Set(messages.map((m) => m.handle))];
    try {
      const { failed } = await queue.delete(handles);
      if (failed.length > 0)
        log.warn(
          { queue: queue.url, failed: failed.length },
          'some handled event messages were not deleted; they will come back and change nothing',
        );
    } catch (e) {
      const error = classify(e);
      log.warn(
        { queue: queue.url, code: error.code, error: error.message },
        'handled event messages not deleted; they will come back and change nothing',
      );
    }
  }
}

/** The stored document as facts; anything unexpected in it counts as nothing known. */
function asFacts(doc: unknown): EventFacts {
  if (typeof doc !== 'object' || doc === null) return NO_EVENT_FACTS;
  const d = doc as Record<string, unknown>;
  const section = (v: unknown) => (typeof v === 'object' && v !== null && !Array.isArray(v) ? v : {});
  return { warned: section(d.warned), rebalance: section(d.rebalance), states: section(d.states) } as EventFacts;
}
