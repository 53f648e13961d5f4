import { GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { QueueFacts } from '../policy/estimator.js';
import type { DemandSource } from './source.js';

/** A pool's jobs as the depth of an SQS queue: visible messages wait, in-flight ones run. */
export class SqsDepthSource implements DemandSource {
  readonly pools: readonly string[];

  constructor(
    private readonly pool: string,
    private readonly queueUrl: string,
    private readonly sqs: SQSClient,
  ) {
    this.pools = [pool];
  }

  get name(): string {
    return `sqs ${this.queueUrl}`;
  }

  async read(signal: AbortSignal): Promise<Record<string, QueueFacts>> {
    const out = await this.sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: this.queueUrl,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      }),
      { abortSignal: signal },
    );
    const count = (name: string): number => {
      const raw = out.Attributes?.[name as keyof typeof out.Attributes];
      if (raw === undefined || !/^\d+$/.test(raw)) throw new Error(`${name} is ${JSON.stringify(raw)}`);
      return Number(raw);
    };
    return { [this.pool]: { pending: count('ApproximateNumberOfMessages'), running: count('ApproximateNumberOfMessagesNotVisible') } };
  }
}
