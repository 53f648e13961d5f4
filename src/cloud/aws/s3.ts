import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { ObjectStore, StoredObject, WriteCondition } from '../port.js';

/** S3 objects; conditional writes use If-Match / If-None-Match. */
export class S3Objects implements ObjectStore {
  constructor(private readonly s3: S3Client) {}

  async get(bucket: string, key: string, ifNoneMatch?: string): Promise<StoredObject | 'not-modified' | undefined> {
    try {
      const out = await this.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, ...(ifNoneMatch ? { IfNoneMatch: ifNoneMatch } : {}) }));
      const body = (await out.Body?.transformToString('utf8')) ?? '';
      return { body, etag: out.ETag ?? '' };
    } catch (e) {
      const err = e as { name?: string; $metadata?: { httpStatusCode?: number } };
      if (err.$metadata?.httpStatusCode === 304 || err.name === 'NotModified') return 'not-modified';
      if (err.name === 'NoSuchKey' || (err.$metadata?.httpStatusCode === 404 && err.name !== 'NoSuchBucket')) return undefined;
      throw e;
    }
  }

  async put(bucket: string, key: string, body: string, condition: WriteCondition = {}): Promise<{ etag: string }> {
    const out = await this.s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: key,
        Body: body,
        ContentType: 'application/json',
        ...(condition.ifMatch ? { IfMatch: condition.ifMatch } : {}),
        ...(condition.ifNoneMatch ? { IfNoneMatch: condition.ifNoneMatch } : {}),
      }),
    );
    return { etag: out.ETag ?? '' };
  }
}
