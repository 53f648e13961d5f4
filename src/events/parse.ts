// An SQS message body, as an EventBridge rule writes it (the event JSON itself), into an Ec2Event.
// Anything else is answered with a one-line reason, never thrown: a bad message is dropped, not a crash.

import type { Ec2Event, Ec2EventKind, InterruptionAction } from '../domain/events.js';
import type { InstanceState } from '../domain/types.js';

export type ParsedMessage =
  | { readonly ok: true; readonly event: Ec2Event }
  /** malformed: not an event fleet can read; foreign: a well-formed event fleet does not listen to */
  | { readonly ok: false; readonly result: 'malformed' | 'foreign'; readonly reason: string };

/** EventBridge's `detail-type` for each kind (SPEC §5 Events). */
export const DETAIL_TYPES: Readonly<Record<string, Ec2EventKind>> = {
  'EC2 Spot Instance Interruption Warning': 'interruption-warning',
  'EC2 Instance Rebalance Recommendation': 'rebalance-recommendation',
  'EC2 Instance State-change Notification': 'state-change',
};

/** EC2 sends an interruption warning this long before it acts (hibernation starts at once). */
export const INTERRUPTION_NOTICE_MS = 120_000;

const STATES: readonly InstanceState[] = ['pending', 'running', 'stopping', 'stopped', 'shutting-down', 'terminated'];
const ACTIONS: readonly InterruptionAction[] = ['terminate', 'stop', 'hibernate'];
const INSTANCE_ID = /^i-[0-9a-f]{8,17}$/;
const REGION = /^[a-z]{2}(-[a-z]+)+-\d+$/;
const MAX_REASON_TEXT = 60;

/**
 * How far in the future an event's time may be (clocks differ a little). Beyond it the event is
 * dropped: a fact dated ahead would outrank every real event about its instance until that date.
 */
export const MAX_EVENT_SKEW_MS = 5 * 60_000;

/** `now`: the reader's clock, to drop events dated in the future beyond MAX_EVENT_SKEW_MS. */
export function parseEventMessage(body: string, now?: number): ParsedMessage {
  let raw: unknown;
  try {
    raw = JSON.parse(body);
  } catch {
    return malformed(`not JSON: ${quote(body)}`);
  }
  if (!isObject(raw)) return malformed('not a JSON object');
  // An SNS topic between the rule and the queue wraps the event; fleet reads the rule's own delivery.
  if (raw.Type === 'Notification' && typeof raw.Message === 'string') {
    return malformed(
      'an SNS notification, not an EventBridge event: deliver the rule to the queue directly (or enable raw message delivery)',
    );
  }
  const source = raw.source;
  const detailType = raw['detail-type'];
  if (typeof source !== 'string' || typeof detailType !== 'string')
    return malformed('no "source" or "detail-type": not an EventBridge event');
  if (source !== 'aws.ec2') return foreign(`source ${quote(source)} is not aws.ec2`);
  const kind = DETAIL_TYPES[detailType];
  if (kind === undefined) return foreign(`detail-type ${quote(detailType)} is not one fleet reads`);
  const time = typeof raw.time === 'string' && /^\d{4}-\d\d-\d\dT/.test(raw.time) ? Date.parse(raw.time) : Number.NaN;
  if (!Number.isFinite(time)) return malformed(`${detailType}: "time" is not an ISO 8601 time (${quote(raw.time)})`);
  if (now !== undefined && time > now + MAX_EVENT_SKEW_MS)
    return malformed(`${detailType}: "time" ${new Date(time).toISOString()} is in the future (now ${new Date(now).toISOString()})`);
  if (typeof raw.region !== 'string' || !REGION.test(raw.region))
    return malformed(`${detailType}: "region" is not a region name (${quote(raw.region)})`);
  const detail = raw.detail;
  if (!isObject(detail)) return malformed(`${detailType}: no "detail" object`);
  const instanceId = detail['instance-id'];
  if (typeof instanceId !== 'string' || !INSTANCE_ID.test(instanceId))
    return malformed(`${detailType}: "detail.instance-id" is missing or not an instance id (${quote(instanceId)})`);
  const base = { kind, instanceId, region: raw.region, time };
  if (kind === 'state-change') {
    const state = detail.state;
    if (!STATES.includes(state as InstanceState))
      return malformed(`${detailType}: "detail.state" is not an instance state (${quote(state)})`);
    return { ok: true, event: { ...base, state: state as InstanceState } };
  }
  if (kind === 'interruption-warning') {
    const action = detail['instance-action'];
    if (!ACTIONS.includes(action as InterruptionAction))
      return malformed(`${detailType}: "detail.instance-action" is not terminate, stop or hibernate (${quote(action)})`);
    const actionTime = action === 'hibernate' ? time : time + INTERRUPTION_NOTICE_MS;
    return { ok: true, event: { ...base, action: action as InterruptionAction, actionTime } };
  }
  return { ok: true, event: base };
}

function malformed(reason: string): ParsedMessage {
  return { ok: false, result: 'malformed', reason };
}

function foreign(reason: string): ParsedMessage {
  return { ok: false, result: 'foreign', reason };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A short, one-line rendering of a value for a reason (message bodies can be long or multi-line). */
function quote(v: unknown): string {
  const text = v === undefined ? 'absent' : (JSON.stringify(v) ?? typeof v);
  const line = text.replace(/\s+/g, ' ');
  return line.length > MAX_REASON_TEXT ? `${line.slice(0, MAX_REASON_TEXT)}…` : line;
}
