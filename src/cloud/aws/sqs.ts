import { DeleteMessageBatchCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { queueUrlRegion } from '../../events/queue-url.js';
import type { EventQueue, QueueMessage } from '../port.js';

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
  ) {}

  async receive(maxWaitSeconds: number, signal?: AbortSignal): Promise<QueueMessage[]> {
    const wait = Math.max(0, Math.min(MAX_WAIT_SECONDS, Math.floor(maxWaitSeconds)));
    const out = await this.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: this.url, MaxNumberOfMessages: BATCH, WaitTimeSeconds: wait }),
      signal ? { abortSignal: signal } : {},
    );
    return (out.Messages ?? []).flatMap((m) =>
      m.ReceiptHandle === undefined ? [] : [{ id: m.MessageId ?? m.ReceiptHandle, body: m.Body ?? '', handle: m.ReceiptHandle }],
    );
  }

  async delete(handles: readonly string[]): Promise<{ failed: string[] }> {
    const failed: string[] = [];
    for (let i = 0; i < handles.length; i += BATCH) {
      const batch = handles.slice(i, i + BATCH);
      const out = await this.sqs.send(
        new DeleteMessageBatchCommand({ QueueUrl: this.url, Entries: batch.map((handle, n) => ({ Id: String(n), ReceiptHandle: handle })) }),
      );
      for (const f of out.Failed ?? []) {
        const handle = batch[Number(f.Id)];
        if (handle !== undefined) failed.push(handle);
      }
    }
    return { failed };
  }
}

export function sqsEventQueue(url: string, env: NodeJS.ProcessEnv = process.env): SqsEventQueue {
  // fleet's next poll is the retry; a long poll needs a request timeout beyond its 20 s wait.
  return new SqsEventQueue(url, sqsClientFor(url, (MAX_WAIT_SECONDS + 15) * 1000, env));
}

/** An SQS client for a queue URL: its region from the URL, one attempt, bounded in time. */
export function sqsClientFor(url: string, requestTimeoutMs: number, env: NodeJS.ProcessEnv = process.env): SQSClient {
  const awsRegion = queueUrlRegion(url);
  const region = awsRegion ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1';
  // The SDK's endpoint variables win; a queue URL on a host of its own (no AWS region in it) is its
  // own endpoint. Either way the endpoint is given, so the SDK does not second-guess it on stderr.
  const endpoint = env.AWS_ENDPOINT_URL_SQS ?? env.AWS_ENDPOINT_URL ?? (awsRegion === undefined ? new URL(url).origin : undefined);
  return new SQSClient({
    region,
    ...(endpoint ? { endpoint } : {}),
    maxAttempts: 1,
    requestHandler: { connectionTimeout: 5_000, requestTimeout: requestTimeoutMs },
  });
}
