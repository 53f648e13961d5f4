import { DeleteMessageBatchCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { queueUrlRegion } from '../../events/queue-url.js';
import { pino } from 'pino';
import { anySignal, type CallBounds, bounds, deadlineExceeded, deadlineSignal } from '../bounds.js';
import type { EventQueue, QueueMessage } from '../port.js';
import { processShutdown } from '../shutdown.js';
import { type ClientLimits, bounded, boundedConfig } from './bounded.js';

/** SQS allows at most 10 messages per receive and 10 entries per delete batch, and 20 s of long polling. */
const BATCH = 10;
const MAX_WAIT_SECONDS = 20;

/**
 * The SQS queue an EventBridge rule feeds. The queue URL's region decides the client's region;
 * custom endpoints come from the SDK's own variables (AWS_ENDPOINT_URL_SQS, AWS_ENDPOINT_URL).
 * Errors are thrown as the SDK raises them; cloud/errors.ts classifies them.
 */
export class SqsEventQueue implements EventQueue {
  constructor(
    readonly url: string,
    private readonly sqs: SQSClient,
    /** the bounds of a receive beyond its own wait */
    private readonly margins: CallBounds = bounds().sqs,
  ) {}

  async receive(maxWaitSeconds: number, signal?: AbortSignal): Promise<QueueMessage[]> {
    const wait = Math.max(0, Math.min(MAX_WAIT_SECONDS, Math.floor(maxWaitSeconds)));
    const totalMs = wait * 1000 + this.margins.totalMs;
    const deadline = deadlineSignal(totalMs, deadlineExceeded('SQS', totalMs));
    const out = await this.sqs.send(new ReceiveMessageCommand({ QueueUrl: this.url, MaxNumberOfMessages: BATCH, WaitTimeSeconds: wait }), {
      abortSignal: signal ? anySignal([signal, deadline]) : deadline,
      requestTimeout: wait * 1000 + this.margins.requestMs,
    });
    return (out.Messages ?? []).flatMap((m) =>
      m.ReceiptHandle === undefined ? [] : [{ id: m.MessageId ?? m.ReceiptHandle, body: m.Body ?? '', handle: m.ReceiptHandle }],
    );
  }

  async delete(handles: readonly string[]): Promise<{ failed: string[] }> {
    const failed: string[] = [];
    for (let i = 0; i < handles.length; i += BATCH) {
      const batch = handles.slice(i, i + BATCH);
      const out = await this.sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: this.url,
          Entries: batch.map((handle, n) => ({ Id: String(n), ReceiptHandle: handle })),
        }),
      );
      for (const f of out.Failed ?? []) {
        const handle = batch[Number(f.Id)];
        if (handle !== undefined) failed.push(handle);
      }
    }
    return { failed };
  }
}

export function sqsEventQueue(url: string, env: NodeJS.ProcessEnv = process.env, limits: ClientLimits = defaultLimits(env)): SqsEventQueue {
  return new SqsEventQueue(url, sqsClientFor(url, env, limits, MAX_WAIT_SECONDS), limits.bounds);
}

/**
 * An SQS client for a queue URL: its region from the URL, one attempt, bounded in time (room made for
 * a long poll of `pollSeconds`).
 */
export function sqsClientFor(
  url: string,
  env: NodeJS.ProcessEnv = process.env,
  limits: ClientLimits = defaultLimits(env),
  pollSeconds = 0,
): SQSClient {
  const awsRegion = queueUrlRegion(url);
  const region = awsRegion ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1';
  // The SDK's endpoint variables win; a queue URL on a host of its own (no AWS region in it) is its
  // own endpoint. Either way the endpoint is given, so the SDK does not second-guess it on stderr.
  const endpoint = env.AWS_ENDPOINT_URL_SQS ?? env.AWS_ENDPOINT_URL ?? (awsRegion === undefined ? new URL(url).origin : undefined);
  const margins = limits.bounds;
  const longest = {
    ...limits,
    bounds: { ...margins, requestMs: pollSeconds * 1000 + margins.requestMs, totalMs: pollSeconds * 1000 + margins.totalMs },
  };
  const client = new SQSClient({ region, ...(endpoint ? { endpoint } : {}), maxAttempts: 1, ...boundedConfig(longest) });
  return bounded(client, longest);
}

function defaultLimits(env: NodeJS.ProcessEnv): ClientLimits {
  return { service: 'SQS', bounds: bounds(env).sqs, abort: () => processShutdown.signal, log: pino({ level: 'silent' }) };
}
