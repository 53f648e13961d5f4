// What the simulated EventBridge rule delivers: the world's events about instances, written as
// EventBridge writes EC2's events (the event JSON is the SQS message body). Simulated.

import type { InstanceState } from '../domain/types.js';
import type { WorldEvent } from './world.js';

export const SIM_ACCOUNT = '123456789012';

/** The instance state a world event moves to, for those that are state changes. */
const STATE_OF: Partial<Record<WorldEvent['kind'], InstanceState>> = {
  launch: 'pending',
  running: 'running',
  interrupted: 'shutting-down',
  terminated: 'shutting-down',
  'self-shutdown': 'shutting-down',
  'boot-failure': 'shutting-down',
  gone: 'terminated',
};

/** The EventBridge event JSON for a world event, or undefined when EC2 sends none for it. */
export function eventBridgeBody(e: WorldEvent, seq: number): string | undefined {
  const { id, region } = e.instance;
  const envelope = (detailType: string, detail: Record<string, string>) =>
    JSON.stringify({
      version: '0',
      id: eventId(seq),
      'detail-type': detailType,
      source: 'aws.ec2',
      account: SIM_ACCOUNT,
      // EventBridge stamps whole seconds.
      time: new Date(Math.floor(e.t / 1000) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      region,
      resources: [`arn:aws:ec2:${region}:${SIM_ACCOUNT}:instance/${id}`],
      detail,
    });
  if (e.kind === 'interruption-warning')
    return envelope('EC2 Spot Instance Interruption Warning', { 'instance-id': id, 'instance-action': 'terminate' });
  if (e.kind === 'rebalance-recommendation') return envelope('EC2 Instance Rebalance Recommendation', { 'instance-id': id });
  const state = STATE_OF[e.kind];
  return state === undefined ? undefined : envelope('EC2 Instance State-change Notification', { 'instance-id': id, state });
}

/** A deterministic id in the shape of EventBridge's UUIDs. */
function eventId(seq: number): string {
  const hex = seq.toString(16).padStart(12, '0');
  return `5e0f1ee7-0000-4000-8000-${hex}`;
}
