import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CloudError } from '../../src/cloud/errors.js';
import { InputError } from '../../src/domain/errors.js';
import { parseLocation } from '../../src/shared/location.js';
import { DirectoryStateStore, ObjectStateStore, openStateStore, type StateStore } from '../../src/shared/state-store.js';
import { SimObjects } from '../../src/fake-cloud/s3.js';

interface Doc {
  readonly n: number;
}

let dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'fleet-state-'));
  dirs.push(dir);
  return dir;
}
function removeTempDirs(): void {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  dirs = [];
}

/** Awaits `p`, expects it to reject with a CloudError of class 'conflict', and returns it. */
async function conflictOf(p: Promise<unknown>): Promise<CloudError> {
  let error: unknown;
  try {
    await p;
  } catch (e) {
    error = e;
  }
  expect(error, 'expected the write to be refused').to.be.instanceOf(CloudError);
  expect((error as CloudError).errorClass).to.equal('conflict');
  return error as CloudError;
}

/** The conditional-write contract, the same for every kind of store. */
function conditionalWrites(make: () => StateStore): void {
  let store: StateStore;
  beforeEach(() => {
    store = make();
  });

  it('reads a document that does not exist as undefined', async () => {
    expect(await store.read('missing.json')).to.equal(undefined);
  });

  it('creates a document, and reads it back with the etag the write returned', async () => {
    const etag = await store.write<Doc>('doc.json', { n: 1 }, undefined);
    expect(etag).to.be.a('string').and.not.equal('');
    expect(await store.read<Doc>('doc.json')).to.deep.equal({ doc: { n: 1 }, etag });
  });

  it('refuses a create-only write over an existing document, which keeps its content', async () => {
    const etag = await store.write<Doc>('doc.json', { n: 1 }, undefined);
    await conflictOf(store.write<Doc>('doc.json', { n: 2 }, undefined));
    expect(await store.read<Doc>('doc.json')).to.deep.equal({ doc: { n: 1 }, etag });
  });

  it('replaces a document whose etag still matches, and gives the new etag', async () => {
    const first = await store.write<Doc>('doc.json', { n: 1 }, undefined);
    const second = await store.write<Doc>('doc.json', { n: 2 }, first);
    expect(second).to.not.equal(first);
    expect(await store.read<Doc>('doc.json')).to.deep.equal({ doc: { n: 2 }, etag: second });
    const third = await store.write<Doc>('doc.json', { n: 3 }, second);
    expect((await store.read<Doc>('doc.json'))?.etag).to.equal(third);
  });

  it('refuses a write with a stale etag, which keeps the newer content', async () => {
    const first = await store.write<Doc>('doc.json', { n: 1 }, undefined);
    const second = await store.write<Doc>('doc.json', { n: 2 }, first);
    await conflictOf(store.write<Doc>('doc.json', { n: 99 }, first));
    expect(await store.read<Doc>('doc.json')).to.deep.equal({ doc: { n: 2 }, etag: second });
  });

  it('refuses an etag-conditional write to a document that does not exist', async () => {
    const etag = await store.write<Doc>('other.json', { n: 1 }, undefined);
    await conflictOf(store.write<Doc>('doc.json', { n: 1 }, etag));
    expect(await store.read('doc.json')).to.equal(undefined);
  });

  it('lets exactly one of two concurrent writers with the same etag win', async () => {
    const base = await store.write<Doc>('doc.json', { n: 0 }, undefined);
    const results = await Promise.allSettled([store.write<Doc>('doc.json', { n: 1 }, base), store.write<Doc>('doc.json', { n: 2 }, base)]);
    const won = results.filter((r) => r.status === 'fulfilled');
    const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(won).to.have.length(1);
    expect(lost).to.have.length(1);
    await conflictOf(Promise.reject(lost[0]?.reason as Error));
    const winner = results.findIndex((r) => r.status === 'fulfilled') + 1;
    const read = await store.read<Doc>('doc.json');
    expect(read?.doc).to.deep.equal({ n: winner });
    expect(read?.etag).to.equal((won[0] as PromiseFulfilledResult<string>).value);
  });

  it('lets exactly one of two concurrent creators win', async () => {
    const results = await Promise.allSettled([
      store.write<Doc>('doc.json', { n: 1 }, undefined),
      store.write<Doc>('doc.json', { n: 2 }, undefined),
    ]);
    expect(results.map((r) => r.status).sort()).to.deep.equal(['fulfilled', 'rejected']);
    const lost = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    await conflictOf(Promise.reject(lost?.reason as Error));
  });

  it('keeps documents apart by name', async () => {
    await store.write<Doc>('a.json', { n: 1 }, undefined);
    await store.write<Doc>('b.json', { n: 2 }, undefined);
    expect((await store.read<Doc>('a.json'))?.doc).to.deep.equal({ n: 1 });
    expect((await store.read<Doc>('b.json'))?.doc).to.deep.equal({ n: 2 });
  });
}

describe('state store: DirectoryStateStore', () => {
  afterEach(removeTempDirs);

  let dir: string;
  beforeEach(() => {
    dir = join(tempDir(), 'state');
  });

  describe('conditional writes', () => {
    conditionalWrites(() => new DirectoryStateStore(join(tempDir(), 'nested', 'state')));
  });

  it('creates its directory on the first write, and leaves no lock or temporary file behind', async () => {
    const store = new DirectoryStateStore(dir);
    expect(await store.read('doc.json')).to.equal(undefined);
    expect(existsSync(dir)).to.equal(false);
    const etag = await store.write<Doc>('doc.json', { n: 1 }, undefined);
    await store.write<Doc>('doc.json', { n: 2 }, etag);
    await conflictOf(store.write<Doc>('doc.json', { n: 3 }, etag));
    expect(readdirSync(dir)).to.deep.equal(['doc.json']);
    expect(JSON.parse(readFileSync(join(dir, 'doc.json'), 'utf8'))).to.deep.equal({ n: 2 });
  });

  it('uses a content hash as etag: another store on the same directory agrees, and sees foreign edits', async () => {
    const a = new DirectoryStateStore(dir);
    const b = new DirectoryStateStore(dir);
    const etag = await a.write<Doc>('doc.json', { n: 1 }, undefined);
    expect((await b.read<Doc>('doc.json'))?.etag).to.equal(etag);
    // Someone edits the file by hand: the old etag no longer holds.
    writeFileSync(join(dir, 'doc.json'), '{"n": 1}');
    await conflictOf(a.write<Doc>('doc.json', { n: 2 }, etag));
    const edited = await b.read<Doc>('doc.json');
    expect(edited?.etag).to.not.equal(etag);
    await b.write<Doc>('doc.json', { n: 3 }, edited?.etag);
    expect((await a.read<Doc>('doc.json'))?.doc).to.deep.equal({ n: 3 });
  });

  it('breaks a stale lock (older than 30 s) left by a crashed writer', async () => {
    const store = new DirectoryStateStore(dir);
    const etag = await store.write<Doc>('doc.json', { n: 1 }, undefined);
    const lockFile = join(dir, 'doc.json.lock');
    writeFileSync(lockFile, '');
    const old = new Date(Date.now() - 120_000);
    utimesSync(lockFile, old, old);
    const next = await store.write<Doc>('doc.json', { n: 2 }, etag);
    expect(await store.read<Doc>('doc.json')).to.deep.equal({ doc: { n: 2 }, etag: next });
    expect(existsSync(lockFile), 'the write releases the lock it took').to.equal(false);
  });

  it('does not overwrite while another process holds a fresh lock: the write fails as a conflict', async () => {
    const store = new DirectoryStateStore(dir);
    const etag = await store.write<Doc>('doc.json', { n: 1 }, undefined);
    const lockFile = join(dir, 'doc.json.lock');
    writeFileSync(lockFile, '');
    await conflictOf(store.write<Doc>('doc.json', { n: 2 }, etag));
    expect(existsSync(lockFile), "another holder's lock is left alone").to.equal(true);
    expect(await store.read<Doc>('doc.json')).to.deep.equal({ doc: { n: 1 }, etag });
    // Once the holder lets go, the same write goes through.
    rmSync(lockFile);
    await store.write<Doc>('doc.json', { n: 2 }, etag);
    expect((await store.read<Doc>('doc.json'))?.doc).to.deep.equal({ n: 2 });
  });

  it('waits for a lock held by another process and writes once it is released', async () => {
    const store = new DirectoryStateStore(dir);
    const etag = await store.write<Doc>('doc.json', { n: 1 }, undefined);
    const lockFile = join(dir, 'doc.json.lock');
    writeFileSync(lockFile, '');
    // Another process holds the lock and lets go shortly after it says it is ready.
    const holder = spawn(
      process.execPath,
      ['-e', `process.stdout.write('ready\\n'); setTimeout(() => require('fs').rmSync(${JSON.stringify(lockFile)}), 150);`],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    const exited = new Promise<number | null>((resolve) => holder.on('exit', resolve));
    await new Promise<void>((resolve, reject) => {
      holder.stdout.once('data', () => resolve());
      holder.once('error', reject);
    });
    expect(existsSync(lockFile)).to.equal(true);
    const next = await store.write<Doc>('doc.json', { n: 2 }, etag);
    expect(await exited).to.equal(0);
    expect(await store.read<Doc>('doc.json')).to.deep.equal({ doc: { n: 2 }, etag: next });
    expect(existsSync(lockFile)).to.equal(false);
  });

  it('reads a document written by hand, with the etag of its exact bytes', async () => {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'drained.json'), '["ami-1"]');
    const read = await new DirectoryStateStore(dir).read<string[]>('drained.json');
    expect(read?.doc).to.deep.equal(['ami-1']);
    expect(read?.etag).to.match(/^"[0-9a-f]{40}"$/);
  });
});

describe('state store: ObjectStateStore over the simulated S3', () => {
  let sim: SimObjects;
  beforeEach(() => {
    sim = new SimObjects();
    sim.createBucket('fleet-state');
  });

  describe('conditional writes', () => {
    conditionalWrites(() => {
      const objects = new SimObjects();
      objects.createBucket('fleet-state');
      return new ObjectStateStore(objects, 'fleet-state', 'state/');
    });
  });

  it('sends create-only as If-None-Match: * and replacements as If-Match (PreconditionFailed when refused)', async () => {
    const store = new ObjectStateStore(sim, 'fleet-state', 'state/');
    const etag = await store.write<Doc>('doc.json', { n: 1 }, undefined);
    await conflictOf(store.write<Doc>('doc.json', { n: 2 }, undefined));
    await store.write<Doc>('doc.json', { n: 2 }, etag);
    await conflictOf(store.write<Doc>('doc.json', { n: 3 }, etag));
    expect(sim.log.filter((l) => l.action === 'PutObject').map((l) => `${l.key}:${l.result}`)).to.deep.equal([
      'state/doc.json:ok',
      'state/doc.json:PreconditionFailed',
      'state/doc.json:ok',
      'state/doc.json:PreconditionFailed',
    ]);
    const error = await conflictOf(store.write<Doc>('doc.json', { n: 4 }, '"stale"'));
    expect(error.code).to.equal('PreconditionFailed');
  });

  it('keeps its documents under the prefix', async () => {
    const store = new ObjectStateStore(sim, 'fleet-state', 'state/');
    await store.write<Doc>('doc.json', { n: 1 }, undefined);
    const stored = await sim.get('fleet-state', 'state/doc.json');
    expect(stored).to.not.equal(undefined);
    expect(await sim.get('fleet-state', 'doc.json')).to.equal(undefined);
    expect(store.where).to.equal('s3://fleet-state/state/');
  });

  it('reads documents others wrote under the same prefix, and nothing from another prefix', async () => {
    sim.publish('fleet-state', 'state/drained.json', '["ami-1"]');
    sim.publish('fleet-state', 'other/drained.json', '["ami-2"]');
    const read = await new ObjectStateStore(sim, 'fleet-state', 'state/').read<string[]>('drained.json');
    expect(read?.doc).to.deep.equal(['ami-1']);
    expect(read?.etag).to.equal(((await sim.get('fleet-state', 'state/drained.json')) as { etag: string }).etag);
  });
});

describe('state store: openStateStore', () => {
  afterEach(removeTempDirs);

  it('opens a local directory as a DirectoryStateStore', () => {
    const dir = join(tempDir(), 'state');
    const store = openStateStore(dir, new SimObjects());
    expect(store).to.be.instanceOf(DirectoryStateStore);
    expect(store.where).to.equal(dir);
  });

  it('opens s3://bucket/state and s3://bucket/state/ as the same prefix state/', async () => {
    const sim = new SimObjects();
    sim.createBucket('fleet-state');
    const withoutSlash = openStateStore('s3://fleet-state/state', sim);
    const withSlash = openStateStore('s3://fleet-state/state/', sim);
    expect(withoutSlash).to.be.instanceOf(ObjectStateStore);
    expect(withSlash).to.be.instanceOf(ObjectStateStore);
    expect(withoutSlash.where).to.equal('s3://fleet-state/state/');
    expect(withSlash.where).to.equal('s3://fleet-state/state/');
    const etag = await withoutSlash.write<Doc>('doc.json', { n: 1 }, undefined);
    expect(await withSlash.read<Doc>('doc.json')).to.deep.equal({ doc: { n: 1 }, etag });
    await conflictOf(withSlash.write<Doc>('doc.json', { n: 2 }, undefined));
    expect(sim.log.filter((l) => l.action === 'PutObject').map((l) => l.key)).to.deep.equal(['state/doc.json', 'state/doc.json']);
  });

  it('opens a nested prefix and a bare bucket', async () => {
    const sim = new SimObjects();
    sim.createBucket('fleet-state');
    await openStateStore('s3://fleet-state/a/b', sim).write<Doc>('doc.json', { n: 1 }, undefined);
    await openStateStore('s3://fleet-state', sim).write<Doc>('doc.json', { n: 2 }, undefined);
    await openStateStore('s3://fleet-state/', sim).write<Doc>('other.json', { n: 3 }, undefined);
    expect(sim.log.map((l) => l.key)).to.deep.equal(['a/b/doc.json', 'doc.json', 'other.json']);
    expect(openStateStore('s3://fleet-state', sim).where).to.equal('s3://fleet-state/');
  });

  for (const url of ['https://example.com/state/', 'http://127.0.0.1:8080/state']) {
    it(`refuses ${url} with an InputError`, () => {
      expect(() => openStateStore(url, new SimObjects())).to.throw(InputError, /state/);
    });
  }

  it('refuses an invalid bucket name and an empty location with an InputError', () => {
    expect(() => openStateStore('s3://Bad_Bucket/state', new SimObjects())).to.throw(InputError, /bucket/);
    expect(() => openStateStore('s3://', new SimObjects())).to.throw(InputError, /bucket/);
    expect(() => openStateStore('', new SimObjects())).to.throw(InputError, /not set/);
  });
});

describe('location: parseLocation', () => {
  it('splits s3://bucket/key at the first slash', () => {
    expect(parseLocation('s3://fleet-inputs/path/to/amis.json', 'manifest')).to.deep.equal({
      kind: 's3',
      bucket: 'fleet-inputs',
      key: 'path/to/amis.json',
    });
    expect(parseLocation('s3://fleet-inputs', 'manifest')).to.deep.equal({ kind: 's3', bucket: 'fleet-inputs', key: '' });
    expect(parseLocation('s3://my.bucket-1/', 'manifest')).to.deep.equal({ kind: 's3', bucket: 'my.bucket-1', key: '' });
  });

  it('takes https:// and http:// as URLs, and anything else as a file path', () => {
    expect(parseLocation('https://example.com/amis.json?x=1', 'manifest')).to.deep.equal({
      kind: 'https',
      url: 'https://example.com/amis.json?x=1',
    });
    expect(parseLocation('http://127.0.0.1:1234/d.json', 'desired')).to.deep.equal({ kind: 'https', url: 'http://127.0.0.1:1234/d.json' });
    expect(parseLocation('config/desired.json', 'desired')).to.deep.equal({ kind: 'file', path: 'config/desired.json' });
    expect(parseLocation('/etc/fleet/amis.json', 'manifest')).to.deep.equal({ kind: 'file', path: '/etc/fleet/amis.json' });
  });

  it('names the input in its errors', () => {
    expect(() => parseLocation('s3://UPPER/key', 'manifest')).to.throw(InputError, /^manifest: .*no valid bucket name/);
    expect(() => parseLocation('s3://ab/key', 'desired')).to.throw(InputError, /^desired: /);
    expect(() => parseLocation('', 'desired')).to.throw(InputError, 'desired: not set');
  });
});
