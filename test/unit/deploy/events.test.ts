// The deploy files for events.queue: the CloudFormation templates and the service's IAM policy
// must match what fleet reads (the detail-types the parser knows) and grant no more than needed.

import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { type Tags, parse } from 'yaml';
import { DETAIL_TYPES, parseEventMessage } from '../../../src/events/parse.js';
import { interruptionWarning, rawEvent, rebalanceRecommendation, stateChange } from '../../support/ec2-events.js';

// CloudFormation's short-form intrinsic functions, as plain objects.
const CFN_TAGS: Tags = [
  { tag: '!Ref', resolve: (v: string) => ({ Ref: v }) },
  { tag: '!GetAtt', resolve: (v: string) => ({ 'Fn::GetAtt': v.split('.') }) },
  { tag: '!Sub', resolve: (v: string) => ({ 'Fn::Sub': v }) },
];

type Json = Record<string, any>;
const template = (name: string): Json => parse(readFileSync(`deploy/events/${name}`, 'utf8'), { customTags: CFN_TAGS }) as Json;

/** EventBridge's matching for the pattern forms the templates use: each field's value is one of the listed ones. */
function matches(pattern: Json, event: Json): boolean {
  return Object.entries(pattern).every(([key, allowed]) =>
    Array.isArray(allowed) ? allowed.includes(event[key]) : matches(allowed as Json, (event[key] ?? {}) as Json),
  );
}

const T = '2026-11-20T10:15:30Z';
const ID = 'i-0123456789abcdef0';

describe('deploy: the events queue template (deploy/events/eventbridge-sqs.yaml)', () => {
  const t = template('eventbridge-sqs.yaml');
  const resources = t.Resources as Json;
  const [queueName] = Object.entries(resources).find(([, r]) => r.Type === 'AWS::SQS::Queue') ?? [];
  const [ruleName, rule] = Object.entries(resources).find(([, r]) => r.Type === 'AWS::Events::Rule') ?? [];
  const policy = Object.values(resources).find((r) => r.Type === 'AWS::SQS::QueuePolicy');

  it('has one queue, one rule and one queue policy', () => {
    expect(
      Object.values(resources)
        .map((r) => r.Type)
        .sort(),
    ).to.deep.equal(['AWS::Events::Rule', 'AWS::SQS::Queue', 'AWS::SQS::QueuePolicy']);
  });

  it('the rule matches exactly the detail-types fleet reads, from aws.ec2, and targets the queue', () => {
    const pattern = rule.Properties.EventPattern;
    expect(pattern.source).to.deep.equal(['aws.ec2']);
    expect([...pattern['detail-type']].sort()).to.deep.equal(Object.keys(DETAIL_TYPES).sort());
    expect(rule.Properties.State).to.equal('ENABLED');
    expect(rule.Properties.Targets).to.have.length(1);
    expect(rule.Properties.Targets[0].Arn).to.deep.equal({ 'Fn::GetAtt': [queueName, 'Arn'] });
  });

  it('what the rule lets through is what the parser reads, and nothing it would drop', () => {
    const pattern = rule.Properties.EventPattern;
    for (const body of [interruptionWarning(ID, T), rebalanceRecommendation(ID, T), stateChange(ID, 'running', T)]) {
      expect(matches(pattern, JSON.parse(body) as Json)).to.equal(true);
      expect(parseEventMessage(body).ok).to.equal(true);
    }
    const foreign = [
      rawEvent('EC2 AMI State Change', ID, T),
      { ...rawEvent('EC2 Spot Instance Interruption Warning', ID, T), source: 'aws.autoscaling' },
    ];
    for (const event of foreign) {
      expect(matches(pattern, event)).to.equal(false);
      expect(parseEventMessage(JSON.stringify(event))).to.include({ ok: false, result: 'foreign' });
    }
  });

  it('the queue policy lets EventBridge send from that rule only, and nothing else', () => {
    expect(policy.Properties.Queues).to.deep.equal([{ Ref: queueName }]);
    const statements = policy.Properties.PolicyDocument.Statement as Json[];
    expect(statements).to.have.length(1);
    expect(statements[0]).to.deep.equal({
      Sid: 'Ec2EventsFromThisRuleOnly',
      Effect: 'Allow',
      Principal: { Service: 'events.amazonaws.com' },
      Action: 'sqs:SendMessage',
      Resource: { 'Fn::GetAtt': [queueName, 'Arn'] },
      Condition: { ArnEquals: { 'aws:SourceArn': { 'Fn::GetAtt': [ruleName, 'Arn'] } } },
    });
  });

  it('outputs the queue URL for events.queue, and keeps messages no longer than fleet keeps facts', () => {
    expect(t.Outputs.QueueUrl.Value).to.deep.equal({ Ref: queueName });
    expect(resources[queueName as string].Properties.MessageRetentionPeriod).to.equal(3600);
  });
});

describe('deploy: the forwarding template for other regions (deploy/events/eventbridge-forward.yaml)', () => {
  const t = template('eventbridge-forward.yaml');
  const resources = t.Resources as Json;
  const rule = Object.values(resources).find((r) => r.Type === 'AWS::Events::Rule');
  const [roleName, role] = Object.entries(resources).find(([, r]) => r.Type === 'AWS::IAM::Role') ?? [];
  const bus = { 'Fn::Sub': 'arn:${AWS::Partition}:events:${QueueRegion}:${AWS::AccountId}:event-bus/default' };

  it('forwards the same pattern to the default bus of the queue region, with a role that may only put events there', () => {
    expect(rule.Properties.EventPattern).to.deep.equal(template('eventbridge-sqs.yaml').Resources.Ec2EventsRule.Properties.EventPattern);
    expect(rule.Properties.Targets).to.deep.equal([
      { Id: 'fleet-events-queue-region', Arn: bus, RoleArn: { 'Fn::GetAtt': [roleName, 'Arn'] } },
    ]);
    expect(role.Properties.AssumeRolePolicyDocument.Statement).to.deep.equal([
      { Effect: 'Allow', Principal: { Service: 'events.amazonaws.com' }, Action: 'sts:AssumeRole' },
    ]);
    const granted = (role.Properties.Policies as Json[]).flatMap((p) => p.PolicyDocument.Statement as Json[]);
    expect(granted).to.deep.equal([{ Effect: 'Allow', Action: 'events:PutEvents', Resource: bus }]);
  });
});

describe('deploy: the service IAM policy grants the queue reads fleet needs', () => {
  const statements = (JSON.parse(readFileSync('policies/iam/fleet-service.json', 'utf8')) as Json).Statement as Json[];
  const actions = (s: Json): string[] => (Array.isArray(s.Action) ? s.Action : [s.Action]);

  it('receive, delete and read attributes on the template queue, and no other SQS action anywhere', () => {
    const sqs = statements.filter((s) => actions(s).some((a) => a.startsWith('sqs:')));
    expect(sqs).to.have.length(1);
    expect(sqs[0]?.Effect).to.equal('Allow');
    expect([...actions(sqs[0] as Json)].sort()).to.deep.equal(['sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:ReceiveMessage']);
    const queueName = template('eventbridge-sqs.yaml').Parameters.QueueName.Default as string;
    expect(sqs[0]?.Resource).to.equal(`arn:aws:sqs:*:*:${queueName}`);
  });
});
