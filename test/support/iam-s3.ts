// A small S3 (path-style GET only) that answers as S3 does for a principal with the given IAM
// policy: 403 AccessDenied for an object the policy does not grant, 404 NoSuchKey for a missing one
// only when s3:ListBucket is granted (else 403, as S3 does). Every request is recorded with its answer.

import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Policy, evaluate } from './iam.js';

export interface IamS3 {
  readonly endpoint: string;
  /** "bucket/key status" of every request */
  readonly requests: string[];
  put(bucket: string, key: string, body: string): void;
  close(): Promise<void>;
}

export async function startIamS3(policy: Policy): Promise<IamS3> {
  const objects = new Map<string, string>();
  const requests: string[] = [];
  const allowed = (action: string, resource: string, context: Record<string, string> = {}) =>
    evaluate(policy, { action, resource, context }).allowed;
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://s3.local');
    const [, bucket = '', ...rest] = url.pathname.split('/');
    const key = decodeURIComponent(rest.join('/'));
    const answer = (status: number, body: string, headers: Record<string, string> = {}) => {
      requests.push(`${bucket}/${key} ${status}`);
      res.writeHead(status, { 'content-type': status === 200 ? 'application/json' : 'application/xml', ...headers });
      res.end(body);
    };
    const error = (status: number, code: string) =>
      answer(status, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${code}</Message></Error>`);
    if (req.method !== 'GET') return error(405, 'MethodNotAllowed');
    if (!allowed('s3:GetObject', `arn:aws:s3:::${bucket}/${key}`)) return error(403, 'AccessDenied');
    const body = objects.get(`${bucket}/${key}`);
    if (body !== undefined) return answer(200, body, { etag: `"${body.length}"` });
    return allowed('s3:ListBucket', `arn:aws:s3:::${bucket}`, { 's3:prefix': key }) ? error(404, 'NoSuchKey') : error(403, 'AccessDenied');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    put: (bucket, key, body) => void objects.set(`${bucket}/${key}`, body),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
