// EventBridge event bodies as an EventBridge rule delivers them to SQS, for tests (hand-written,
// in the shapes AWS documents for each detail-type).

import type { InstanceState } from '../../src/domain/types.js';

const ACCOUNT = '123456789012';

function envelope(
  detailType: string,
  instanceId: string,
  time: string,
  region: string,
  detail: Record<string, string>,
): Record<string, unknown> {
  return {
    version: '0',
    id: '7bf73129-1428-4cd3-a780-95db273d1602',
    'detail-type': detailType,
    source: 'aws.ec2',
    account: ACCOUNT,
    time,
    region,
    resources: [`arn:aws:ec2:${region}:${ACCOUNT}:instance/${instanceId}`],
    detail: { 'instance-id': instanceId, ...detail },
  };
}

export function interruptionWarning(instanceId: string, time: string, region = 'us-east-1', action = 'terminate'): string {
  return JSON.stringify(envelope('EC2 Spot Instance Interruption Warning', instanceId, time, region, { 'instance-action': action }));
}

export function rebalanceRecommendation(instanceId: string, time: string, region = 'us-east-1'): string {
  return JSON.stringify(envelope('EC2 Instance Rebalance Recommendation', instanceId, time, region, {}));
}

export function stateChange(instanceId: string, state: InstanceState, time: string, region = 'us-east-1'): string {
  return JSON.stringify(envelope('EC2 Instance State-change Notification', instanceId, time, region, { state }));
}

/** Any envelope, to be bent into malformed or foreign shapes. */
export function rawEvent(detailType: string, instanceId: string, time: string, region = 'us-east-1'): Record<string, unknown> {
  return envelope(detailType, instanceId, time, region, {});
}
