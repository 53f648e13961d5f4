import { open } from 'node:fs/promises';
import type { Logger } from 'pino';
import { classify } from '../cloud/errors.js';
import type { ObjectStore } from '../cloud/port.js';
import { TOO_LARGE, refuseOverCap } from '../cloud/size-cap.js';
import type { FleetConfig } from '../config/config.js';
import type { PoolDemand } from '../domain/demand.js';
import type { PoolPolicy } from '../domain/policy.js';
import type { Image } from '../domain/types.js';
import { parseDesiredDocument } from '../manifest/desired.js';
import { parseManifest } from '../manifest/manifest.js';
import { desiredFromDemand } from '../policy/demand.js';
import { type FetchedDocument, fetchDocument } from './fetch-document.js';
import { describeLocation, parseLocation, redactLocation } from './location.js';
import type { StateStore, Versioned } from './state-store.js';

export type InputSource = 'fresh' | 'unchanged' | 'last-good' | 'none';

export interface InputResult<T> {
  readonly value: T | undefined;
  readonly source: InputSource;
  /** why the fresh copy could not be used, when it could not */
  readonly problem?: string;
}

interface Cached<T> {
  readonly etag?: string;
  readonly text: string;
  readonly value: T;
  /** epoch ms this copy was fetched, or saved as the last good one */
  readonly since?: number;
}

/** Caps on an input's size, wherever it is read from: a bigger document is refused, never parsed or kept. */
export const INPUT_MAX_BYTES: Readonly<Record<InputName, number>> = { manifest: 16 * 1024 * 1024, desired: 1024 * 1024 };

export type InputName = 'manifest' | 'desired';

export interface InputOptions {
  /** accept plain http:// [false] */
  readonly allowHttp?: boolean;
  /** [INPUT_MAX_BYTES of the input] */
  readonly maxBytes?: number;
}

interface LastGoodDoc {
  readonly location: string;
  readonly text: string;
  readonly savedAt: number;
}

/**
 * Reads one input (the manifest or the desired counts) from a file, s3:// or https://.
 * An unchanged object is not downloaded again (If-None-Match). A copy that cannot be read or
 * fails validation is replaced by the last good one: first this process's, then the one kept in
 * the state store, so a fresh process is as safe as a long-running one. With none, the value is
 * undefined and the planner changes nothing.
 */
export class InputReader<T> {
  private cached: Cached<T> | undefined;

  constructor(
    private readonly what: InputName,
    private readonly location: string,
    private readonly parse: (text: string) => T,
    private readonly objects: ObjectStore,
    private readonly state: StateStore,
    private readonly log: Logger,
    private readonly now: () => number,
    private readonly options: InputOptions = {},
  ) {}

  private get maxBytes(): number {
    return this.options.maxBytes ?? INPUT_MAX_BYTES[this.what];
  }

  /** The location as it may be printed (no query string, no user:password). */
  private get shown(): string {
    return redactLocation(this.location);
  }

  private get lastGoodName(): string {
    return `last-good-${this.what}.json`;
  }

  async read(): Promise<InputResult<T>> {
    const result = await this.readOnce();
    if (this.log.isLevelEnabled('debug')) {
      const since = this.cached?.since;
      this.log.debug(
        {
          input: this.what,
          location: redactLocation(this.location),
          source: result.source,
          ...(since !== undefined && result.value !== undefined ? { ageSeconds: Math.round((this.now() - since) / 1000) } : {}),
        },
        'input',
      );
    }
    return result;
  }

  private async readOnce(): Promise<InputResult<T>> {
    let fetched: FetchedDocument | 'not-modified';
    try {
      fetched = await this.fetch();
    } catch (e) {
      return this.fallBack(`cannot read ${this.what} ${this.shown}: ${classify(e).message}`);
    }
    if (fetched === 'not-modified' && this.cached) return { value: this.cached.value, source: 'unchanged' };
    if (fetched === 'not-modified') return this.fallBack(`${this.what} ${this.shown}: not modified, but no copy in memory`);
    if (this.cached && fetched.text === this.cached.text) {
      // Same text under a new (or a first) ETag: a copy restored from the state store has none, and a
      // republished object may get another. Keep the newest, or every later read downloads it again.
      if (fetched.etag !== this.cached.etag) {
        this.cached = { ...this.cached, ...(fetched.etag ? { etag: fetched.etag } : {}) };
      }
      return { value: this.cached.value, source: 'unchanged' };
    }
    let value: T;
    try {
      value = this.parse(fetched.text);
    } catch (e) {
      const problem = (e as Error).message;
      this.log.error({ input: this.what, location: redactLocation(this.location), problem }, `${this.what} refused: ${problem}`);
      return this.fallBack(problem);
    }
    this.cached = { text: fetched.text, value, since: this.now(), ...(fetched.etag ? { etag: fetched.etag } : {}) };
    await this.saveLastGood(fetched.text);
    return { value, source: 'fresh' };
  }

  private async fetch(): Promise<FetchedDocument | 'not-modified'> {
    const where = parseLocation(this.location, this.what);
    const etag = this.cached?.etag;
    switch (where.kind) {
      case 'file':
        return { text: await readCapped(where.path, this.maxBytes) };
      case 's3': {
        const got = await this.objects.get(where.bucket, where.key, etag, { maxBytes: this.maxBytes });
        if (got === undefined) throw new Error(`${describeLocation(where)} does not exist`);
        return got === 'not-modified' ? got : { text: got.body, etag: got.etag };
      }
      case 'https':
        return fetchDocument(where.url, { maxBytes: this.maxBytes, allowHttp: this.options.allowHttp ?? false, ...(etag ? { etag } : {}) });
    }
  }

  private async fallBack(problem: string): Promise<InputResult<T>> {
    if (this.cached) {
      this.log.warn({ input: this.what, problem }, `${this.what}: using the last good copy`);
      return { value: this.cached.value, source: 'last-good', problem };
    }
    try {
      const kept = await this.state.read<LastGoodDoc>(this.lastGoodName, lastGoodMaxBytes(this.maxBytes));
      const here = kept !== undefined && redactLocation(kept.doc.location) === this.shown;
      if (here && Buffer.byteLength(kept.doc.text) > this.maxBytes) {
        this.log.warn({ input: this.what }, `${this.what}: the last good copy in the state store is over the size cap; not used`);
      } else if (kept && here) {
        const value = this.parse(kept.doc.text);
        this.cached = { text: kept.doc.text, value, since: kept.doc.savedAt };
        this.log.warn(
          { input: this.what, problem, savedAt: new Date(kept.doc.savedAt).toISOString() },
          `${this.what}: using the last good copy from the state store`,
        );
        return { value, source: 'last-good', problem };
      }
    } catch (e) {
      this.log.warn({ input: this.what, error: (e as Error).message }, `${this.what}: last good copy unreadable`);
    }
    this.log.error({ input: this.what, problem }, `${this.what}: no usable copy; nothing will be launched or retired`);
    return { value: undefined, source: 'none', problem };
  }

  /** The kept copy, to replace it conditionally; one over the cap (from an older version) is read once more, to be replaced. */
  private async keptForReplacing(): Promise<Versioned<LastGoodDoc> | undefined> {
    try {
      return await this.state.read<LastGoodDoc>(this.lastGoodName, lastGoodMaxBytes(this.maxBytes));
    } catch (e) {
      if (classify(e).code !== TOO_LARGE) throw e;
      return this.state.read<LastGoodDoc>(this.lastGoodName);
    }
  }

  private async saveLastGood(text: string): Promise<void> {
    try {
      const kept = await this.keptForReplacing();
      if (kept?.doc.text === text && kept.doc.location === this.shown) return;
      // Kept under the location as shown: a presigned URL's signature must not be stored.
      await this.state.write<LastGoodDoc>(this.lastGoodName, { location: this.shown, text, savedAt: this.now() }, kept?.etag);
    } catch (e) {
      // Best effort: another replica may have saved the same copy first.
      this.log.debug({ input: this.what, error: (e as Error).message }, 'last good copy not saved');
    }
  }
}

/** The stored copy is JSON around the text: escaping can at most double it, plus the envelope. */
function lastGoodMaxBytes(maxBytes: number): number {
  return 2 * maxBytes + 4096;
}

/** A file's text, refused beyond `maxBytes` before anything is read, and read no further than that. */
async function readCapped(path: string, maxBytes: number): Promise<string> {
  const file = await open(path, 'r');
  try {
    refuseOverCap((await file.stat()).size, maxBytes);
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const { bytesRead, buffer } = await file.read(Buffer.alloc(64 * 1024), 0, 64 * 1024, null);
      if (bytesRead === 0) break;
      total += bytesRead;
      // The file grew after the check.
      refuseOverCap(total, maxBytes);
      chunks.push(buffer.subarray(0, bytesRead));
    }
    return Buffer.concat(chunks).toString('utf8');
  } finally {
    await file.close();
  }
}

/** The AMI manifest as the config names it (location and tag names), read like every input. */
export function manifestInput(
  config: FleetConfig,
  objects: ObjectStore,
  state: StateStore,
  log: Logger,
  now: () => number,
): InputReader<Image[]> {
  const options = { poolTag: config.manifestTags.pool, createdTag: config.manifestTags.created };
  return new InputReader<Image[]>('manifest', config.manifest, (text) => parseManifest(text, options), objects, state, log, now, {
    allowHttp: config.allowHttp,
  });
}

/** The desired document as the planner uses it: a count per pool, and what it said about each pool. */
export interface DesiredInput {
  readonly counts: Readonly<Record<string, number>>;
  readonly demand: Readonly<Record<string, PoolDemand>>;
}

/**
 * The desired document as the config names it, checked against the policies: a pool no policy
 * defines (and config ignoredPools does not list) refuses the whole document.
 */
export function desiredInput(
  config: FleetConfig,
  policies: readonly PoolPolicy[],
  objects: ObjectStore,
  state: StateStore,
  log: Logger,
  now: () => number,
): InputReader<DesiredInput> {
  const options = { pools: new Set(policies.map((p) => p.pool)), ignored: new Set(config.ignoredPools) };
  const parse = (text: string): DesiredInput => {
    const demand = parseDesiredDocument(text, options);
    return { counts: Object.fromEntries(Object.entries(demand).map(([pool, d]) => [pool, desiredFromDemand(d)])), demand };
  };
  return new InputReader<DesiredInput>('desired', config.desired, parse, objects, state, log, now, { allowHttp: config.allowHttp });
}
