import { createHmac } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import type { AddressInfo, Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import {
  EMPTY_GITHUB_JOBS,
  GITHUB_JOBS_DOC,
  GITHUB_LIMITS,
  type GithubJobsDoc,
  applyDelivery,
  jobFacts,
} from '../../src/demand/github-jobs.js';
import { instantValue } from '../../src/demand/prometheus.js';
import { DemandReader, type DemandSource } from '../../src/demand/source.js';
import { startWebhookServer } from '../../src/demand/webhooks.js';
import { silentLogger } from '../../src/service/logger.js';
import { type StateStore, openStateStore } from '../../src/shared/state-store.js';
import type { QueueFacts } from '../../src/policy/estimator.js';

const T0 = Date.parse('2026-12-07T10:00:00Z');
const POOLS = new Map([['bld-linux64', ['self-hosted', 'linux', 'bld']]]);
const LABELS = ['self-hosted', 'linux', 'bld', 'x64'];

describe('github workflow_job document', () => {
  it("counts queued and running jobs whose labels include all of the pool's, and the oldest wait", () => {
    let doc: GithubJobsDoc = EMPTY_GITHUB_JOBS;
    const apply = (d: string, id: string, state: 'queued' | 'in_progress' | 'completed', labels = LABELS, now = T0) => {
      const next = applyDelivery(doc, d, { id, state, labels, createdAt: T0 - 120_000 }, now);
      if (next === 'replay') throw new Error('replay');
      doc = next;
    };
    apply('d1', '1', 'queued');
    apply('d2', '2', 'queued');
    apply('d3', '2', 'in_progress');
    apply('d4', '3', 'queued', ['self-hosted', 'linux']); // lacks "bld": another pool's
    expect(jobFacts(doc, POOLS, T0)).to.deep.equal({ 'bld-linux64': { pending: 1, running: 1, oldestPendingSeconds: 120 } });
    apply('d5', '2', 'completed');
    apply('d6', '2', 'queued'); // late and out of order: the job stays completed
    expect(jobFacts(doc, POOLS, T0)['bld-linux64']).to.include({ pending: 1, running: 0 });
  });

  it('refuses a delivery seen before', () => {
    const once = applyDelivery(EMPTY_GITHUB_JOBS, 'd1', { id: '1', state: 'queued', labels: LABELS }, T0) as GithubJobsDoc;
    expect(applyDelivery(once, 'd1', { id: '2', state: 'queued', labels: LABELS }, T0)).to.equal('replay');
  });

  it('lets jobs whose later deliveries were missed expire', () => {
    const doc = applyDelivery(EMPTY_GITHUB_JOBS, 'd1', { id: '1', state: 'in_progress', labels: LABELS }, T0) as GithubJobsDoc;
    expect(jobFacts(doc, POOLS, T0 + GITHUB_LIMITS.runningExpiryMs - 1)['bld-linux64']?.running).to.equal(1);
    expect(jobFacts(doc, POOLS, T0 + GITHUB_LIMITS.runningExpiryMs)['bld-linux64']?.running).to.equal(0);
  });
});

describe('prometheus instant answers', () => {
  const vector = (...values: string[]) =>
    JSON.stringify({ status: 'success', data: { resultType: 'vector', result: values.map((v) => ({ metric: {}, value: [1, v] })) } });
  it('takes the one series of a vector, or a scalar', () => {
    expect(instantValue('pending', vector('5'))).to.equal(5);
    expect(instantValue('pending', JSON.stringify({ status: 'success', data: { resultType: 'scalar', result: [1, '2'] } }))).to.equal(2);
  });
  for (const [what, text] of [
    ['NaN', vector('NaN')],
    ['+Inf', vector('+Inf')],
    ['a negative value', vector('-1')],
    ['two series', vector('1', '2')],
    ['no series', vector()],
    ['a matrix', JSON.stringify({ status: 'success', data: { resultType: 'matrix', result: [] } })],
    ['an error', JSON.stringify({ status: 'error', error: 'parse error' })],
    ['not JSON', '<html>'],
  ] as const) {
    it(`refuses ${what}`, () => {
      expect(() => instantValue('pending', text)).to.throw(/pending query/);
    });
  }
});

describe('DemandReader', () => {
  it("keeps a pool's last good facts when its source fails, hangs or answers nonsense", async () => {
    const answers: (() => Promise<Record<string, QueueFacts>>)[] = [
      () => Promise.resolve({ p: { pending: 4, running: 2 } }),
      () => Promise.reject(new Error('down')),
      () => Promise.resolve({ p: { pending: -1, running: 2 } }),
      () => Promise.resolve({ p: { pending: Number.NaN, running: 2 } }),
      () => new Promise(() => {}),
      () => Promise.resolve({ p: { pending: 1, running: 0 } }),
    ];
    let n = 0;
    const source: DemandSource = { name: 'test', pools: ['p'], read: () => (answers[n++] as () => Promise<Record<string, QueueFacts>>)() };
    const reader = new DemandReader([source], silentLogger(), 200);
    const seen: (QueueFacts | undefined)[] = [];
    for (let i = 0; i < answers.length; i++) seen.push((await reader.read()).p);
    expect(seen).to.deep.equal([...(Array(5) as unknown[]).fill({ pending: 4, running: 2 }), { pending: 1, running: 0 }]);
  });
});

describe('GitHub webhook listener', function () {
  this.timeout(20_000);
  const SECRET = 'test-webhook-secret';
  let server: Server;
  let state: StateStore;
  let url: string;

  beforeEach(async () => {
    state = openStateStore(mkdtempSync(join(tmpdir(), 'fleet-hooks-')), undefined as never);
    server = await startWebhookServer({ secret: SECRET, state, log: silentLogger(), now: () => T0 }, 0, '127.0.0.1');
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/github`;
  });
  afterEach(() => new Promise((resolve) => server.close(resolve)));

  const payload = (id: number, action: string) =>
    JSON.stringify({ action, workflow_job: { id, labels: LABELS, created_at: new Date(T0 - 30_000).toISOString() } });
  const sign = (body: string, secret = SECRET) => `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
  const post = (body: string, headers: Record<string, string>) =>
    fetch(url, { method: 'POST', body, headers: { 'content-type': 'application/json', 'x-github-event': 'workflow_job', ...headers } });
  const jobs = async () => (await state.read<GithubJobsDoc>(GITHUB_JOBS_DOC))?.doc.jobs ?? {};

  it('stores a signed delivery, and refuses a replay of it', async () => {
    const body = payload(7, 'queued');
    expect((await post(body, { 'x-hub-signature-256': sign(body), 'x-github-delivery': 'a-1' })).status).to.equal(200);
    expect(Object.keys(await jobs())).to.deep.equal(['7']);
    const later = payload(7, 'completed');
    const replay = await post(later, { 'x-hub-signature-256': sign(later), 'x-github-delivery': 'a-1' });
    expect(replay.status).to.equal(409);
    expect((await jobs())['7']?.state).to.equal('queued');
  });

  it('changes nothing for a forged, unsigned, malformed or oversized delivery', async () => {
    const body = payload(8, 'queued');
    expect((await post(body, { 'x-hub-signature-256': sign(body, 'wrong'), 'x-github-delivery': 'b-1' })).status).to.equal(401);
    expect((await post(body, { 'x-github-delivery': 'b-2' })).status).to.equal(401);
    const tampered = payload(9, 'queued');
    expect((await post(tampered, { 'x-hub-signature-256': sign(body), 'x-github-delivery': 'b-3' })).status).to.equal(401);
    const junk = '{"action":"queued","workflow_job":{"id":"x"}}';
    expect((await post(junk, { 'x-hub-signature-256': sign(junk), 'x-github-delivery': 'b-4' })).status).to.equal(400);
    const huge = JSON.stringify({ pad: 'x'.repeat(300 * 1024) });
    expect((await post(huge, { 'x-hub-signature-256': sign(huge), 'x-github-delivery': 'b-5' })).status).to.equal(413);
    expect(await jobs()).to.deep.equal({});
  });
});
