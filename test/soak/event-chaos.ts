// The soak's faults on the event queue: messages that are not EC2's events (anyone the queue
// policy lets in may send; a misconfigured rule or topic may too), and SQS's at-least-once
// deliveries of a message already handled. Neither may change what fleet does.

import type { Prng } from '../../src/fake-cloud/prng.js';
import { SIM_ACCOUNT } from '../../src/fake-cloud/eventbridge.js';

export type StrayKind = 'bad-json' | 'sns-envelope' | 'other-source' | 'no-instance' | 'foreign-instance';
export const STRAY_KINDS: readonly StrayKind[] = ['bad-json', 'sns-envelope', 'other-source', 'no-instance', 'foreign-instance'];

/**
 * A message body of the given kind. `foreignInstance` is an instance that is not the fleet's: a
 * well-formed interruption warning about it is recorded, and must still change nothing.
 */
export function strayBody(kind: StrayKind, t: number, region: string, foreignInstance: string): string {
  const warning = (detail: Record<string, string>) =>
    JSON.stringify({
      version: '0',
      id: `5e0f1ee7-0000-4000-9000-${t.toString(16).padStart(12, '0')}`,
      'detail-type': 'EC2 Spot Instance Interruption Warning',
      source: 'aws.ec2',
      account: SIM_ACCOUNT,
      time: new Date(Math.floor(t / 1000) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      region,
      resources: [],
      detail,
    });
  switch (kind) {
    case 'bad-json':
      return warning({ 'instance-id': foreignInstance, 'instance-action': 'terminate' }).slice(0, 60);
    case 'sns-envelope':
      return JSON.stringify({
        Type: 'Notification',
        MessageId: `sns-${t}`,
        TopicArn: `arn:aws:sns:${region}:${SIM_ACCOUNT}:other`,
        Message: warning({ 'instance-id': foreignInstance, 'instance-action': 'terminate' }),
      });
    case 'other-source':
      return JSON.stringify({
        version: '0',
        'detail-type': 'Object Created',
        source: 'aws.s3',
        account: SIM_ACCOUNT,
        time: new Date(t).toISOString(),
        region,
        detail: { bucket: { name: 'fleet-soak' } },
      });
    case 'no-instance':
      return warning({ 'instance-action': 'terminate' });
    case 'foreign-instance':
      return warning({ 'instance-id': foreignInstance, 'instance-action': 'terminate' });
  }
}

/** Draw one stray message's kind. */
export function drawStray(rng: Prng): StrayKind {
  return rng.pick(STRAY_KINDS);
}
