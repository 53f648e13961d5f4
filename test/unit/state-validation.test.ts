import { expect } from 'chai';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CloudError } from '../../src/cloud/errors.js';
import { allPages } from '../../src/cloud/pages.js';
import { recordDrains } from '../../src/service/drains.js';
import { readDrained } from '../../src/shared/worker-docs.js';
import { Journal, JournalUnreadable } from '../../src/service/journal.js';
import { DRAINED_DOC, RECONCILER_DOC } from '../../src/service/state-docs.js';
import { CorruptStateError, DirectoryStateStore } from '../../src/shared/state-store.js';

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error('expected a rejection');
}

describe('state documents: validated on read, failing closed', () => {
  let dir: string;
  let state: DirectoryStateStore;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'fleet-statedocs-'));
    state = new DirectoryStateStore(join(dir, 'state'));
  });
  afterEach(() => {
    chmodSync(dir, 0o700);
    rmSync(dir, { recursive: true, force: true });
  });

  it('a drained.json of the wrong shape is an error naming the document and the field, never "no drains"', async () => {
    await state.write(DRAINED_DOC, { amis: 'ami-x' }, undefined);
    const error = await rejection(readDrained(state));
    expect(error).to.be.instanceOf(CorruptStateError);
    expect((error as Error).message).to.equal(`state ${join(dir, 'state')}/drained.json is malformed: amis: expected an object`);
    // Recording a drain on top of it does not wipe the marks it may hold.
    expect(await rejection(recordDrains(state, [{ ami: 'ami-y', reason: 'bad', by: 'operator' }], 1000))).to.be.instanceOf(
      CorruptStateError,
    );
    await state.write(
      DRAINED_DOC,
      { amis: { 'ami-x': { reason: 'r', at: 'yesterday', by: 'operator' } } },
      (await state.read(DRAINED_DOC))?.etag,
    );
    expect(((await rejection(readDrained(state))) as Error).message).to.match(/amis\.ami-x: at: expected a time/);
  });

  it('a drained.json that is not JSON is an error too', async () => {
    mkdirSync(join(dir, 'state'), { recursive: true });
    writeFileSync(join(dir, 'state', DRAINED_DOC), '{"amis": {');
    expect(((await rejection(readDrained(state))) as Error).message).to.match(/drained\.json is malformed: not JSON/);
  });

  it('a reconciler.json of the wrong shape stops the journal from opening', async () => {
    await state.write(
      RECONCILER_DOC,
      { version: 2, timers: {}, launches: 'none', terminated: {}, endsSeen: {}, established: {}, trials: {} },
      undefined,
    );
    const error = await rejection(Journal.open(state));
    expect(error).to.be.instanceOf(JournalUnreadable);
    expect((error as Error).message).to.match(/reconciler\.json: launches: expected a list/);
  });

  it('only a missing file is a missing document: any other read error is an error', async () => {
    expect(await state.read('nothing.json')).to.equal(undefined);
    mkdirSync(join(dir, 'state', 'a-directory.json'), { recursive: true });
    const isDir = await rejection(state.read('a-directory.json'));
    expect(isDir).to.be.instanceOf(CloudError);
    expect((isDir as CloudError).code).to.equal('EISDIR');
    if (process.getuid?.() !== 0) {
      await state.write('locked.json', { n: 1 }, undefined);
      chmodSync(join(dir, 'state', 'locked.json'), 0o000);
      const denied = await rejection(state.read('locked.json'));
      expect((denied as CloudError).errorClass).to.equal('permission');
      // Nor is it overwritten as if it were not there.
      expect(await rejection(state.write('locked.json', { n: 2 }, undefined))).to.be.instanceOf(CloudError);
    }
  });

  it('writes state files owner-only (0600) in an owner-only directory (0700)', async () => {
    await state.write(DRAINED_DOC, { amis: {} }, undefined);
    expect(statSync(join(dir, 'state')).mode & 0o777).to.equal(0o700);
    expect(statSync(join(dir, 'state', DRAINED_DOC)).mode & 0o777).to.equal(0o600);
  });
});

describe('paginated listings', () => {
  it('stop with an error on a page token seen before instead of looping', async () => {
    let calls = 0;
    const error = await rejection(
      allPages(async (next) => {
        calls += 1;
        return { items: [calls], next: next === undefined ? 'a' : next === 'a' ? 'b' : 'a' };
      }),
    );
    expect(error).to.be.instanceOf(CloudError);
    expect((error as CloudError).code).to.equal('RepeatedPageToken');
    expect(calls).to.equal(3);
  });
});
