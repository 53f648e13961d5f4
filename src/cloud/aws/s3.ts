import { GetObjectCommand, type GetObjectCommandOutput, PutObjectCommand, S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import type { CallOptions, ObjectStore, ReadOptions, StoredObject, WriteCondition } from '../port.js';
import { cappedText, refuseOverCap } from '../size-cap.js';

/**
 * An S3 client from the SDK's standard chain (credentials, AWS_REGION, AWS_ENDPOINT_URL_S3, ...).
 * A custom endpoint (moto, MinIO, a VPC endpoint) is addressed path-style.
 */
export function s3Client(env: NodeJS.ProcessEnv, config: S3ClientConfig = {}): S3Client {
  return new S3Client({
    region: env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1',
    followRegionRedirects: true,
    forcePathStyle: Boolean(env.AWS_ENDPOINT_URL_S3 ?? env.AWS_ENDPOINT_URL),
    ...config,
  });
}

/** S3 objects; conditional writes use If-Match / If-None-Match. */
export class S3Objects implements ObjectStore {
  constructor(private readonly s3: S3Client) {}

  async get(
    bucket: string,
    key: string,
    ifNoneMatch?: string,
    options: ReadOptions = {},
  ): Promise<StoredObject | 'not-modified' | undefined> {
    const maxBytes = options.maxBytes ?? Number.POSITIVE_INFINITY;
    let out: GetObjectCommandOutput;
    try {
      out = await this.s3.send(
        new GetObjectCommand({ Bucket: bucket, Key: key, ...(ifNoneMatch ? { IfNoneMatch: ifNoneMatch } : {}) }),
        sendOptions(options),
      );
    } catch (e) {
      const err = e as { name?: string; $metadata?: { httpStatusCode?: number } };
      if (err.$metadata?.httpStatusCode === 304 || err.name === 'NotModified') return 'not-modified';
      if (err.name === 'NoSuchKey' || (err.$metadata?.httpStatusCode === 404 && err.name !== 'NoSuchBucket')) return undefined;
      throw e;
    }
    return { body: await cappedBody(out, maxBytes), etag: out.ETag ?? '' };
  }

  async put(
    bucket: string,
    key: string,
    body: string,
    condition: WriteCondition = {},
    options: CallOptions = {},
  ): Promise<{ etag: string }> {
    const out = await this.s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: key,
        Body: body,
        ContentType: 'application/json',
        ...(condition.ifMatch ? { IfMatch: condition.ifMatch } : {}),
        ...(condition.ifNoneMatch ? { IfNoneMatch: condition.ifNoneMatch } : {}),
      }),
      sendOptions(options),
    );
    return { etag: out.ETag ?? '' };
  }
}

/** The body as text, refused on its Content-Length or as soon as it grows past `maxBytes`. */
async function cappedBody(out: GetObjectCommandOutput, maxBytes: number): Promise<string> {
  const body = out.Body as
    (Partial<AsyncIterable<Uint8Array>> & { destroy?: () => void; transformToString?: (encoding: string) => Promise<string> }) | undefined;
  if (body === undefined) return '';
  try {
    refuseOverCap(out.ContentLength ?? 0, maxBytes);
  } catch (e) {
    body.destroy?.();
    throw e;
  }
  // Not a stream (a body some SDK middleware already read): its size is checked once it is text.
  if (body[Symbol.asyncIterator] === undefined) {
    const text = (await body.transformToString?.('utf8')) ?? '';
    refuseOverCap(Buffer.byteLength(text), maxBytes);
    return text;
  }
  return cappedText(body as AsyncIterable<Uint8Array>, maxBytes);
}

function sendOptions(options: CallOptions): { abortSignal?: AbortSignal } {
  return options.signal ? { abortSignal: options.signal } : {};
}
