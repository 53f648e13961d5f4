import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync, openSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { CloudError, classify } from '../cloud/errors.js';
import type { ObjectStore } from '../cloud/port.js';
import { InputError } from '../domain/errors.js';
import { tooLarge } from './fetch-document.js';
import { parseLocation } from './location.js';

export interface Versioned<T> {
  readonly doc: T;
  readonly etag: string;
}

/**
 * Small JSON documents shared by every replica and command: drained AMIs, timers, pending launches,
 * last good inputs, the leader lease. Writes are conditional: `etag` undefined means "create only",
 * otherwise "only if unchanged"; losing the race throws a CloudError of class 'conflict'.
 */
export interface StateStore {
  /** `maxBytes`: a bigger document throws instead of being read */
  read<T>(name: string, maxBytes?: number): Promise<Versioned<T> | undefined>;
  write<T>(name: string, doc: T, etag: string | undefined): Promise<string>;
  readonly where: string;
}

export function conflict(name: string): CloudError {
  return new CloudError('conflict', 'PreconditionFailed', `state ${name} was changed by someone else`, 412);
}

/** State in S3 (or the simulator's S3) under a prefix, with S3's conditional writes. */
export class ObjectStateStore implements StateStore {
  constructor(
    private readonly objects: ObjectStore,
    private readonly bucket: string,
    private readonly prefix: string,
  ) {}

  get where(): string {
    return `s3://${this.bucket}/${this.prefix}`;
  }

  async read<T>(name: string, maxBytes?: number): Promise<Versioned<T> | undefined> {
    const found = await this.objects.get(this.bucket, this.prefix + name, undefined, maxBytes);
    if (found === undefined || found === 'not-modified') return undefined;
    return { doc: JSON.parse(found.body) as T, etag: found.etag };
  }

  async write<T>(name: string, doc: T, etag: string | undefined): Promise<string> {
    const body = `${JSON.stringify(doc, null, 1)}\n`;
    try {
      const out = await this.objects.put(this.bucket, this.prefix + name, body, etag === undefined ? { ifNoneMatch: '*' } : { ifMatch: etag });
      return out.etag;
    } catch (e) {
      // The contract is a CloudError ('conflict' for a lost race) whatever ObjectStore is underneath;
      // a guarded cloud's errors are classified already and pass through unchanged.
      throw classify(e);
    }
  }
}

/** State in a local directory: one file per document, etag = content hash, a lock file guards each write. */
export class DirectoryStateStore implements StateStore {
  constructor(readonly where: string) {}

  async read<T>(name: string, maxBytes?: number): Promise<Versioned<T> | undefined> {
    const path = join(this.where, name);
    if (maxBytes !== undefined && sizeOf(path) > maxBytes) throw tooLarge(maxBytes);
    let body: string;
    try {
      body = readFileSync(path, 'utf8');
    } catch {
      return undefined;
    }
    return { doc: JSON.parse(body) as T, etag: etagOf(body) };
  }

  async write<T>(name: string, doc: T, etag: string | undefined): Promise<string> {
    mkdirSync(this.where, { recursive: true });
    const path = join(this.where, name);
    const body = `${JSON.stringify(doc, null, 1)}\n`;
    const release = await lock(`${path}.lock`, name);
    try {
      let current: string | undefined;
      try {
        current = readFileSync(path, 'utf8');
      } catch {
        current = undefined;
      }
      if (etag === undefined ? current !== undefined : current === undefined || etagOf(current) !== etag) throw conflict(name);
      const temp = `${path}.${process.pid}.tmp`;
      writeFileSync(temp, body);
      renameSync(temp, path);
    } finally {
      release();
    }
    return etagOf(body);
  }
}

function sizeOf(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

function etagOf(body: string): string {
  return `"${createHash('sha1').update(body).digest('hex')}"`;
}

const STALE_LOCK_MS = 30_000;

async function lock(path: string, name: string): Promise<() => void> {
  for (let attempt = 0; ; attempt++) {
    try {
      closeSync(openSync(path, 'wx'));
      return () => rmSync(path, { force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      try {
        if (Date.now() - statSync(path).mtimeMs > STALE_LOCK_MS) rmSync(path, { force: true });
      } catch {
        // the holder just released it
      }
      if (attempt > 200) throw conflict(name);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
}

/** A view that reads the store and never writes it (plan, dry runs, a worker's boot check). */
export function readOnlyStateStore(state: StateStore): StateStore {
  return { where: state.where, read: (name, maxBytes) => state.read(name, maxBytes), write: async () => '' };
}

export function openStateStore(location: string, objects: ObjectStore): StateStore {
  const parsed = parseLocation(location, 'state');
  if (parsed.kind === 's3') {
    const prefix = parsed.key === '' || parsed.key.endsWith('/') ? parsed.key : `${parsed.key}/`;
    return new ObjectStateStore(objects, parsed.bucket, prefix);
  }
  if (parsed.kind === 'https') throw new InputError('config state: must be s3://bucket/prefix/ or a local directory');
  return new DirectoryStateStore(parsed.path);
}
