import { createHash } from 'node:crypto';
import { refuseOverCap } from '../cloud/size-cap.js';
import type { ObjectStore, ReadOptions, StoredObject, WriteCondition } from '../cloud/port.js';
import { SimAwsError } from './faults.js';

export interface S3LogEntry {
  readonly action: 'GetObject' | 'PutObject';
  readonly bucket: string;
  readonly key: string;
  readonly result: string;
  /** set when a read was answered with a garbled body */
  readonly corrupt?: true;
}

/** Where the simulated S3 learns of outages and corruption (the cloud's FaultInjector). */
export interface ObjectFaultSource {
  objectFault(bucket: string, key: string): 'outage' | 'corrupt' | undefined;
}

/**
 * A body as a broken disk or proxy might hand it back: half of it, behind a NUL byte, so that it
 * never parses as JSON (whatever the original was).
 */
export function garble(body: string): string {
  return `\u0000${body.slice(0, Math.floor(body.length / 2))}`;
}

/** Simulated S3: buckets of objects with ETags and S3's conditional-write answers. */
export class SimObjects implements ObjectStore {
  private readonly buckets = new Map<string, Map<string, StoredObject>>();
  readonly log: S3LogEntry[] = [];
  /** Told of every object stored through `put` (not `publish`), once stored. */
  onWrite: ((bucket: string, key: string, body: string) => void) | undefined;

  constructor(private readonly faults?: ObjectFaultSource) {}

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

  /** An outage answers as S3 does when it is unwell: 503 ServiceUnavailable. */
  private unavailable(action: 'GetObject' | 'PutObject', bucket: string, key: string): void {
    if (this.faults?.objectFault(bucket, key) !== 'outage') return;
    this.log.push({ action, bucket, key, result: 'ServiceUnavailable' });
    throw new SimAwsError('ServiceUnavailable', 'Service is unable to handle request (simulated outage)', 503);
  }

  async get(
    bucket: string,
    key: string,
    ifNoneMatch?: string,
    options: ReadOptions = {},
  ): Promise<StoredObject | 'not-modified' | undefined> {
    const objects = this.bucket(bucket, 'GetObject', key);
    this.unavailable('GetObject', bucket, key);
    const object = objects.get(key);
    const result = !object ? 'NoSuchKey' : ifNoneMatch && object.etag === ifNoneMatch ? 'NotModified' : 'ok';
    const corrupt = result === 'ok' && this.faults?.objectFault(bucket, key) === 'corrupt';
    this.log.push({ action: 'GetObject', bucket, key, result, ...(corrupt ? { corrupt: true as const } : {}) });
    if (!object) return undefined;
    if (result === 'NotModified') return 'not-modified';
    refuseOverCap(Buffer.byteLength(object.body), options.maxBytes);
    return corrupt ? { body: garble(object.body), etag: object.etag } : object;
  }

  async put(bucket: string, key: string, body: string, condition: WriteCondition = {}): Promise<{ etag: string }> {
    const objects = this.bucket(bucket, 'PutObject', key);
    this.unavailable('PutObject', bucket, key);
    const current = objects.get(key);
    const refused =
      (condition.ifNoneMatch === '*' && current !== undefined) || (condition.ifMatch !== undefined && current?.etag !== condition.ifMatch);
    if (refused) {
      this.log.push({ action: 'PutObject', bucket, key, result: 'PreconditionFailed' });
      throw new SimAwsError('PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', 412);
    }
    const etag = `"${createHash('md5').update(body).digest('hex')}"`;
    objects.set(key, { body, etag });
    this.log.push({ action: 'PutObject', bucket, key, result: 'ok' });
    this.onWrite?.(bucket, key, body);
    return { etag };
  }

  /** The object as stored, with no fault, logging or condition: how the simulation itself looks (never fleet). */
  peek(bucket: string, key: string): StoredObject | undefined {
    return this.buckets.get(bucket)?.get(key);
  }

  /** Write without conditions or logging: how the simulated publishers (image pipeline, job queue) publish. */
  publish(bucket: string, key: string, body: string): void {
    this.createBucket(bucket);
    (this.buckets.get(bucket) as Map<string, StoredObject>).set(key, { body, etag: `"${createHash('md5').update(body).digest('hex')}"` });
  }
}
