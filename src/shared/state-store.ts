import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync, openSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { CloudError, classify } from '../cloud/errors.js';
import type { ObjectStore } from '../cloud/port.js';
import { InputError } from '../domain/errors.js';
import { refuseOverCap } from '../cloud/size-cap.js';
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

/**
 * A state document that is there but cannot be used: not JSON, or not the shape fleet wrote. It is
 * an error, never "no document": what it held (drains, the lease) must not silently vanish.
 * `etag` lets a caller that may replace it (the lease) do so with a conditional write.
 */
export class CorruptStateError extends CloudError {
  constructor(
    readonly document: string,
    readonly where: string,
    readonly etag: string,
    reason: string,
  ) {
    super('invalid', 'CorruptState', `state ${where.replace(/\/?$/, '/')}${document} is malformed: ${reason}`);
  }
}

/** Parse a stored document, or throw CorruptStateError naming it. */
export function parseState(name: string, where: string, body: string, etag: string): unknown {
  try {
    return JSON.parse(body) as unknown;
  } catch (e) {
    throw new CorruptStateError(name, where, etag, `not JSON (${(e as Error).message})`);
  }
}

/**
 * Read a document and check its shape with `problem` (undefined when valid, else what is wrong):
 * a malformed one throws CorruptStateError.
 */
export async function readValid<T>(
  state: StateStore,
  name: string,
  problem: (doc: unknown) => string | undefined,
): Promise<Versioned<T> | undefined> {
  const found = await state.read<unknown>(name);
  if (found === undefined) return undefined;
  const wrong = problem(found.doc);
  if (wrong !== undefined) throw new CorruptStateError(name, state.where, found.etag, wrong);
  return found as Versioned<T>;
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
    const found = await this.objects.get(this.bucket, this.prefix + name, undefined, maxBytes === undefined ? {} : { maxBytes });
    if (found === undefined || found === 'not-modified') return undefined;
    return { doc: parseState(name, this.where, found.body, found.etag) as T, etag: found.etag };
  }

  async write<T>(name: string, doc: T, etag: string | undefined): Promise<string> {
    const body = `${JSON.stringify(doc, null, 1)}\n`;
    try {
      const out = await this.objects.put(
        this.bucket,
        this.prefix + name,
        body,
        etag === undefined ? { ifNoneMatch: '*' } : { ifMatch: etag },
      );
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
    refuseOverCap(sizeOf(path), maxBytes);
    const body = readIfThere(path);
    if (body === undefined) return undefined;
    return { doc: parseState(name, this.where, body, etagOf(body)) as T, etag: etagOf(body) };
  }

  async write<T>(name: string, doc: T, etag: string | undefined): Promise<string> {
    // Owner only: the state names instances, images and the leader; nobody else on the host needs it.
    mkdirSync(this.where, { recursive: true, mode: 0o700 });
    const path = join(this.where, name);
    const body = `${JSON.stringify(doc, null, 1)}\n`;
    const release = await lock(`${path}.lock`, name);
    try {
      const current = readIfThere(path);
      if (etag === undefined ? current !== undefined : current === undefined || etagOf(current) !== etag) throw conflict(name);
      const temp = `${path}.${process.pid}.tmp`;
      writeFileSync(temp, body, { mode: 0o600 });
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

/** The file's text, or undefined when there is no such file; any other failure (EACCES, EISDIR, EMFILE) throws. */
function readIfThere(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    throw new CloudError(
      code === 'EACCES' || code === 'EPERM' ? 'permission' : 'transient',
      code ?? 'Error',
      `state ${path}: cannot read (${code ?? (e as Error).message})`,
    );
  }
}

function etagOf(body: string): string {
  return `"${createHash('sha1').update(body).digest('hex')}"`;
}

const STALE_LOCK_MS = 30_000;

async function lock(path: string, name: string): Promise<() => void> {
  for (let attempt = 0; ; attempt++) {
    try {
      closeSync(openSync(path, 'wx', 0o600));
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
