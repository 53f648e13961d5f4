import { expect } from 'chai';
import { parseEventMessage } from '../../../src/events/parse.js';
import { interruptionWarning, rawEvent, rebalanceRecommendation, stateChange } from '../../support/ec2-events.js';

const ID = 'i-0123456789abcdef0';
const T = '2026-11-20T10:15:30Z';
const T_MS = Date.parse(T);

function rejected(body: string) {
  const parsed = parseEventMessage(body);
  if (parsed.ok) expect.fail(`expected ${body} to be rejected`);
  expect(parsed.reason).to.be.a('string').and.not.match(/\n/);
  return parsed;
}

describe('events: parsing an EventBridge message', () => {
  it('reads a spot interruption warning: the reclaim is two minutes after the event', () => {
    const parsed = parseEventMessage(interruptionWarning(ID, T, 'us-west-2'));
    expect(parsed).to.deep.equal({
      ok: true,
      event: {
        kind: 'interruption-warning',
        instanceId: ID,
        region: 'us-west-2',
        time: T_MS,
        action: 'terminate',
        actionTime: T_MS + 120_000,
      },
    });
  });

  it('a hibernation warning acts at once', () => {
    const parsed = parseEventMessage(interruptionWarning(ID, T, 'us-east-1', 'hibernate'));
    expect(parsed.ok && parsed.event.actionTime).to.equal(T_MS);
  });

  it('reads a rebalance recommendation', () => {
    expect(parseEventMessage(rebalanceRecommendation(ID, T))).to.deep.equal({
      ok: true,
      event: { kind: 'rebalance-recommendation', instanceId: ID, region: 'us-east-1', time: T_MS },
    });
  });

  it('reads a state-change notification, with its new state', () => {
    for (const state of ['pending', 'running', 'stopping', 'stopped', 'shutting-down', 'terminated'] as const) {
      expect(parseEventMessage(stateChange(ID, state, T))).to.deep.equal({
        ok: true,
        event: { kind: 'state-change', instanceId: ID, region: 'us-east-1', time: T_MS, state },
      });
    }
  });

  it('reads the documented example, short instance id and all', () => {
    const body = `{"id":"7bf73129-1428-4cd3-a780-95db273d1602","detail-type":"EC2 Instance State-change Notification","source":"aws.ec2",
      "account":"123456789012","time":"2021-11-11T21:29:54Z","region":"us-east-1",
      "resources":["arn:aws:ec2:us-east-1:123456789012:instance/i-abcd1111"],"detail":{"instance-id":"i-abcd1111","state":"pending"}}`;
    const parsed = parseEventMessage(body);
    expect(parsed.ok && parsed.event).to.deep.include({
      instanceId: 'i-abcd1111',
      state: 'pending',
      time: Date.parse('2021-11-11T21:29:54Z'),
    });
  });

  it('malformed JSON is a one-line reason, not a throw', () => {
    const parsed = rejected('{"detail-type": "EC2 Spot Instance Interruption Warning",\n "source": ');
    expect(parsed.result).to.equal('malformed');
    expect(parsed.reason).to.match(/^not JSON/);
  });

  it('JSON that is not an object, or not an EventBridge event, is malformed', () => {
    expect(rejected('[1, 2]').result).to.equal('malformed');
    expect(rejected('"text"').result).to.equal('malformed');
    expect(rejected('{"hello": "world"}').reason).to.match(/not an EventBridge event/);
  });

  it('an event from another source is foreign', () => {
    const event = { ...rawEvent('EC2 Spot Instance Interruption Warning', ID, T), source: 'aws.autoscaling' };
    const parsed = rejected(JSON.stringify(event));
    expect(parsed.result).to.equal('foreign');
    expect(parsed.reason).to.include('aws.autoscaling');
  });

  it('an aws.ec2 event of another detail-type is foreign', () => {
    const parsed = rejected(JSON.stringify(rawEvent('EC2 AMI State Change', ID, T)));
    expect(parsed.result).to.equal('foreign');
    expect(parsed.reason).to.include('EC2 AMI State Change');
  });

  it('a missing or bad instance id is malformed, and the reason names the field', () => {
    const event = JSON.parse(rebalanceRecommendation(ID, T)) as { detail: Record<string, unknown> };
    delete event.detail['instance-id'];
    expect(rejected(JSON.stringify(event)).reason).to.include('detail.instance-id');
    event.detail['instance-id'] = 'sir-12345678';
    expect(rejected(JSON.stringify(event)).reason).to.include('"sir-12345678"');
  });

  it('a bad time, region, state or instance-action is malformed, naming the field', () => {
    const bend = (body: string, change: (e: Record<string, any>) => void) => {
      const e = JSON.parse(body) as Record<string, unknown>;
      change(e);
      return rejected(JSON.stringify(e));
    };
    expect(bend(stateChange(ID, 'running', T), (e) => (e.time = 'yesterday')).reason).to.include('"time"');
    expect(bend(stateChange(ID, 'running', T), (e) => delete e.region).reason).to.include('"region"');
    expect(bend(stateChange(ID, 'running', T), (e) => (e.detail.state = 'exploded')).reason).to.include('detail.state');
    expect(bend(interruptionWarning(ID, T), (e) => delete e.detail['instance-action']).reason).to.include('detail.instance-action');
    expect(bend(stateChange(ID, 'running', T), (e) => (e.detail = 'none')).reason).to.include('"detail"');
  });

  it('an SNS envelope says how to deliver instead', () => {
    const parsed = rejected(JSON.stringify({ Type: 'Notification', MessageId: 'x', Message: interruptionWarning(ID, T) }));
    expect(parsed.reason).to.match(/SNS/);
  });

  it('a long body is cut in the reason', () => {
    expect(rejected(`not json ${'x'.repeat(5000)}`).reason.length).to.be.below(200);
  });
});
