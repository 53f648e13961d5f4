// What IAM authorizes for each AWS call fleet makes: the action, each resource's ARN and the
// condition keys of that resource, per the service authorization reference of EC2, S3, SQS and the
// Price List API. A command this table does not know throws: a new call must be described here
// (and then granted in the policy) before the check passes.

import type { AuthRequest, ContextValue } from './iam.js';
import { ACCOUNT, type RecordedCall, tagsAtCall } from './aws-recorder.js';

type Tags = Record<string, string>;
type TagList = readonly { Key?: string; Value?: string }[];

export interface Account {
  /** the owner account id of an image ('amazon' for Amazon's own) */
  imageOwner(id: string): string | undefined;
}

export function authorizationsOf(call: RecordedCall, account: Account): AuthRequest[] {
  const where = `${call.service} ${call.command}`;
  const base = { 'aws:PrincipalAccount': ACCOUNT, 'aws:RequestedRegion': call.region };
  const req = (action: string, resource: string, context: Record<string, ContextValue> = {}): AuthRequest => ({
    action,
    resource,
    context: { ...base, ...context },
    call: where,
  });
  const ec2 = (type: string, id: string, owned = true) => `arn:aws:ec2:${call.region}:${owned ? ACCOUNT : ''}:${type}/${id}`;
  const tagsOf = (id: string) => tagsAtCall(call).get(id) ?? {};
  const input = call.input;

  if (call.service === 'pricing' && call.command === 'GetProducts') return [req('pricing:GetProducts', '*')];
  if (call.service === 'ec2' && /^Describe/.test(call.command)) return [req(`ec2:${call.command}`, '*')];
  if (call.service === 'ec2') {
    switch (call.command) {
      case 'RunInstances':
        return runInstances(input, account, req, ec2);
      case 'CreateTags':
      case 'DeleteTags':
        return (input.Resources as string[]).map((id) =>
          req(`ec2:${call.command}`, ec2(resourceType(id), id), {
            ...resourceTagKeys(tagsOf(id)),
            ...requestTagKeys((input.Tags ?? []) as TagList),
          }),
        );
      case 'TerminateInstances':
        return (input.InstanceIds as string[]).map((id) => req('ec2:TerminateInstances', ec2('instance', id), resourceTagKeys(tagsOf(id))));
      case 'DeregisterImage': {
        const id = input.ImageId as string;
        return [
          req('ec2:DeregisterImage', ec2('image', id, false), {
            ...resourceTagKeys(tagsOf(id)),
            'ec2:Owner': account.imageOwner(id) ?? '',
          }),
        ];
      }
      case 'DeleteSnapshot': {
        const id = input.SnapshotId as string;
        return [req('ec2:DeleteSnapshot', ec2('snapshot', id, false), resourceTagKeys(tagsOf(id)))];
      }
    }
  }
  if (call.service === 's3') {
    const object = `arn:aws:s3:::${input.Bucket as string}/${input.Key as string}`;
    if (call.command === 'GetObject') return [req('s3:GetObject', object)];
    if (call.command === 'PutObject') return [req('s3:PutObject', object)];
  }
  if (call.service === 'sqs') {
    const url = new URL(input.QueueUrl as string);
    const [, account_, name] = url.pathname.split('/');
    const queue = `arn:aws:sqs:${call.region}:${account_}:${name}`;
    // DeleteMessageBatch is authorized as sqs:DeleteMessage, once for the whole batch.
    if (call.command === 'ReceiveMessage') return [req('sqs:ReceiveMessage', queue)];
    if (call.command === 'DeleteMessageBatch') return [req('sqs:DeleteMessage', queue)];
    if (call.command === 'GetQueueAttributes') return [req('sqs:GetQueueAttributes', queue)];
  }
  throw new Error(`no IAM authorization is described for ${where}: describe it in test/support/iam-authorization.ts`);
}

/**
 * RunInstances authorizes each resource it creates or uses, and the tagging at launch as
 * ec2:CreateTags with ec2:CreateAction=RunInstances on each tagged resource type.
 */
function runInstances(
  input: Record<string, unknown>,
  account: Account,
  req: (action: string, resource: string, context?: Record<string, ContextValue>) => AuthRequest,
  ec2: (type: string, id: string, owned?: boolean) => string,
): AuthRequest[] {
  const specs = (input.TagSpecifications ?? []) as { ResourceType: string; Tags: TagList }[];
  const tagged = (type: string) => requestTagKeys(specs.find((s) => s.ResourceType === type)?.Tags ?? []);
  const image = input.ImageId as string;
  const nic = ((input.NetworkInterfaces ?? []) as { SubnetId?: string; Groups?: string[] }[])[0] ?? {};
  const requests = [
    req('ec2:RunInstances', ec2('image', image, false), { 'ec2:Owner': account.imageOwner(image) ?? '' }),
    req('ec2:RunInstances', ec2('instance', '*'), tagged('instance')),
    req('ec2:RunInstances', ec2('volume', '*'), tagged('volume')),
    req('ec2:RunInstances', ec2('network-interface', '*')),
    req('ec2:RunInstances', ec2('subnet', nic.SubnetId ?? '?')),
    ...(nic.Groups ?? []).map((g) => req('ec2:RunInstances', ec2('security-group', g))),
    ...(input.KeyName ? [req('ec2:RunInstances', ec2('key-pair', input.KeyName as string))] : []),
    ...specs.map((s) => req('ec2:CreateTags', ec2(s.ResourceType, '*'), { ...tagged(s.ResourceType), 'ec2:CreateAction': 'RunInstances' })),
  ];
  // The instance profile's role is passed to EC2; fleet's convention names the role as its profile.
  const profile = (input.IamInstanceProfile as { Name?: string } | undefined)?.Name;
  if (profile)
    requests.push(req('iam:PassRole', `arn:aws:iam::${ACCOUNT}:role/${profile}`, { 'iam:PassedToService': 'ec2.amazonaws.com' }));
  return requests;
}

function resourceType(id: string): string {
  if (id.startsWith('i-')) return 'instance';
  if (id.startsWith('vol-')) return 'volume';
  if (id.startsWith('ami-')) return 'image';
  throw new Error(`unknown resource type of ${id}`);
}

/** A resource's own tags, as both the global and EC2's condition keys. */
function resourceTagKeys(tags: Tags): Record<string, string> {
  return Object.fromEntries(
    Object.entries(tags).flatMap(([k, v]) => [
      [`aws:ResourceTag/${k}`, v],
      [`ec2:ResourceTag/${k}`, v],
    ]),
  );
}

/** The tags a request sets: aws:RequestTag/<key> each, and aws:TagKeys all of them. */
function requestTagKeys(tags: TagList): Record<string, ContextValue> {
  const keys = tags.flatMap((t) => (t.Key !== undefined ? [t.Key] : []));
  return {
    ...Object.fromEntries(
      tags.flatMap((t) => (t.Key !== undefined && t.Value !== undefined ? [[`aws:RequestTag/${t.Key}`, t.Value]] : [])),
    ),
    ...(keys.length > 0 ? { 'aws:TagKeys': keys } : {}),
  };
}
