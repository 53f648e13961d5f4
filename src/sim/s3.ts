import { createHash } from 'node:crypto';
import type { ObjectStore, StoredObject, WriteCondition } from '../cloud/port.js';
import { SimAwsError } from './faults.js';

/** Simulated S3: buckets of objects with ETags and S3's conditional-write answers. */
export class SimObjects implements ObjectStore {
  private readonly buckets = new Map<string, Map<string, StoredObject>>();
  readonly log: { action: 'GetObject' | 'PutObject'; bucket: string; key: string; result: string }[] = [];

  createBucket(bucket: string): void {
    if (!this.buckets.has(bucket)) this.buckets.set(bucket, new Map());
  }

  private bucket(name: string, action: 'GetObject' | 'PutObject', key: string): Map<string, StoredObject> {
    const bucket = this.buckets.get(name);
    if (!bucket) {
      this.log.push({ action, bucket: name, key, result: 'NoSuchBucket' });
      throw new SimAwsError('NoSuchBucket', 'The specified bucket does not exist', 404);
    }
    return bucket;
  }

  async get(bucket: string, key: string, ifNoneMatch?: string): Promise<StoredObject | 'not-modified' | undefined> {
    const object = this.bucket(bucket, 'GetObject', key).get(key);
    const result = !object ? 'NoSuchKey' : ifNoneMatch && object.etag === ifNoneMatch ? 'NotModified' : 'ok';
    this.log.push({ action: 'GetObject', bucket, key, result });
    if (!object) return undefined;
    return result === 'NotModified' ? 'not-modified' : object;
  }

  async put(bucket: string, key: string, body: string, condition: WriteCondition = {}): Promise<{ etag: string }> {
    const objects = this.bucket(bucket, 'PutObject', key);
    const current = objects.get(key);
    const refused = (condition.ifNoneMatch === '*' && current !== undefined) || (condition.ifMatch !== undefined && current?.etag !== condition.ifMatch);
    if (refused) {
      this.log.push({ action: 'PutObject', bucket, key, result: 'PreconditionFailed' });
      throw new SimAwsError('PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', 412);
    }
    const etag = `"${createHash('md5').update(body).digest('hex')}"`;
    objects.set(key, { body, etag });
    this.log.push({ action: 'PutObject', bucket, key, result: 'ok' });
    return { etag };
  }

  /** Read without logging: how the simulation itself looks at what was published (never fleet). */
  peek(bucket: string, key: string): string | undefined {
    return this.buckets.get(bucket)?.get(key)?.body;
  }

  /** Write without conditions or logging: how the simulated publishers (image pipeline, job queue) publish. */
  publish(bucket: string, key: string, body: string): void {
    this.createBucket(bucket);
    (this.buckets.get(bucket) as Map<string, StoredObject>).set(key, { body, etag: `"${createHash('md5').update(body).digest('hex')}"` });
  }
}
