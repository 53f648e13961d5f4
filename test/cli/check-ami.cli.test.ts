import { expect } from 'chai';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type RunResult, fleet, workspace } from '../support/cli.js';
import { type FakeImds, type InstanceMetadata, startImds, startTrap } from '../support/imds.js';
import { loadPolicy } from '../support/iam.js';
import { type IamS3, startIamS3 } from '../support/iam-s3.js';

// The worker's boot check, run as a worker runs it: the built binary against a simulated IMDSv2
// on loopback (test/support/imds.ts), the manifest and the state store as local files. EC2 and
// every other AWS endpoint point at a trap that fails the test if anything calls it.

const OLD = 'ami-0aaa1111';
const NEW = 'ami-0bbb2222';
const MANIFEST = {
  images: [
    { id: OLD, pool: 'bld-linux64', region: 'us-east-1', created: '2026-11-19T04:00:00Z', name: 'bld-linux64-2026-11-19' },
    { id: NEW, pool: 'bld-linux64', region: 'us-east-1', created: '2026-11-20T04:00:00Z', name: 'bld-linux64-2026-11-20' },
    { id: 'ami-0ccc3333', pool: 'bld-linux64', region: 'us-west-2', created: '2026-11-20T04:00:00Z', name: 'bld-linux64-2026-11-20' },
  ],
};

const WORKER: InstanceMetadata = {
  instanceId: 'i-0123456789abcdef0',
  ami: NEW,
  region: 'us-east-1',
  az: 'us-east-1b',
  tags: { 'fleet:managed-by': 'releng', 'fleet:pool': 'bld-linux64', Name: 'bld-linux64-spot-003' },
};

const SECRET_USER_DATA = '#cloud-config\nmoz_instance_type: bld-linux64\npassword: hunter2\n';

describe('cli: fleet check-ami on a worker at boot', function () {
  this.timeout(30_000);

  let trap: Awaited<ReturnType<typeof startTrap>>;
  const imdses: FakeImds[] = [];

  before(async () => {
    trap = await startTrap();
  });
  after(async () => {
    await trap.close();
  });
  afterEach(async () => {
    await Promise.all(imdses.splice(0).map((i) => i.close()));
    // No EC2 call, nor any other AWS call: everything this command needs is in metadata and local files.
    expect(trap.calls.splice(0), 'AWS calls made').to.deep.equal([]);
  });

  /** A workspace with the manifest as `amis.json` and the given drained marks in its state directory. */
  function fleetWorkspace(manifest: string = JSON.stringify(MANIFEST), drained?: Record<string, unknown>): { dir: string; config: string } {
    const ws = workspace({ fleet: 'releng', manifest: 'amis.json' }, []);
    writeFileSync(join(ws.dir, 'amis.json'), manifest);
    if (drained) {
      mkdirSync(join(ws.dir, 'state'), { recursive: true });
      writeFileSync(join(ws.dir, 'state', 'drained.json'), JSON.stringify({ amis: drained }));
    }
    return ws;
  }

  async function checkAmi(
    ws: { config: string },
    metadata: InstanceMetadata | string,
    args: string[] = [],
    env: Record<string, string> = {},
  ): Promise<RunResult> {
    let endpoint: string;
    if (typeof metadata === 'string') {
      endpoint = metadata;
    } else {
      const imds = await startImds(metadata);
      imdses.push(imds);
      endpoint = imds.endpoint;
    }
    return fleet(['check-ami', '--config', ws.config, ...args], {
      AWS_EC2_METADATA_DISABLED: 'false',
      AWS_EC2_METADATA_SERVICE_ENDPOINT: endpoint,
      AWS_ENDPOINT_URL: trap.endpoint,
      AWS_ENDPOINT_URL_EC2: trap.endpoint,
      AWS_ENDPOINT_URL_S3: trap.endpoint,
      AWS_ACCESS_KEY_ID: 'x',
      AWS_SECRET_ACCESS_KEY: 'y',
      ...env,
    });
  }

  const json = (r: RunResult) => JSON.parse(r.stdout) as Record<string, unknown>;

  /** The proved images the service publishes for workers (their canaries baked). */
  function journal(ws: { dir: string }, proven: readonly string[]): void {
    mkdirSync(join(ws.dir, 'state'), { recursive: true });
    const proved = { 'bld-linux64': { 'us-east-1': Object.fromEntries(proven.map((ami) => [ami, Date.parse('2026-11-20T00:00:00Z')])) } };
    writeFileSync(join(ws.dir, 'state', 'images.json'), JSON.stringify({ version: 1, proved }));
  }

  it('during a rollout, a worker of the previous image is launchable while the new one bakes, and outdated after', async () => {
    const ws = fleetWorkspace();
    journal(ws, [OLD]);
    const previous = await checkAmi(ws, { ...WORKER, ami: OLD }, ['--json']);
    expect(previous.code, previous.stderr).to.equal(0);
    expect(json(previous).reason).to.equal(`${OLD} is the image fleet launches for bld-linux64 in us-east-1 beside ${NEW} on trial`);
    const canary = await checkAmi(ws, WORKER, ['--json']);
    expect(canary.code, canary.stderr).to.equal(0);
    expect(json(canary).reason).to.equal(`${NEW} is the new image on trial (canary) for bld-linux64 in us-east-1`);
    journal(ws, [OLD, NEW]);
    const after = await checkAmi(ws, { ...WORKER, ami: OLD }, ['--json']);
    expect(after.code, after.stdout).to.equal(3);
  });

  it('unreadable proved images are exit 1: a worker is never told to end on what cannot be read', async () => {
    const ws = fleetWorkspace();
    mkdirSync(join(ws.dir, 'state'), { recursive: true });
    writeFileSync(join(ws.dir, 'state', 'images.json'), '{"version": 1, "proved": ');
    const r = await checkAmi(ws, { ...WORKER, ami: OLD }, ['--json']);
    expect(r.code, r.stdout).to.equal(1);
    expect(json(r).verdict).to.equal('unknown');
  });

  it('the current image: exit 0, one line for the boot log', async () => {
    const r = await checkAmi(fleetWorkspace(), WORKER);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout.split('\n')).to.deep.equal([
      `fleet check-ami: launchable (exit 0): ${NEW} is the image fleet launches for bld-linux64 in us-east-1 [i-0123456789abcdef0 bld-linux64-spot-003; pool bld-linux64; us-east-1; pool from tag]`,
      '',
    ]);
    expect(r.stderr).to.equal('');
  });

  it('--json prints exactly instanceId, ami, pool, region, verdict, reason and name', async () => {
    const r = await checkAmi(fleetWorkspace(), WORKER, ['--json']);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout.trim().split('\n')).to.have.length(1);
    const out = json(r);
    expect(Object.keys(out)).to.deep.equal(['instanceId', 'ami', 'pool', 'region', 'verdict', 'reason', 'name']);
    expect(out).to.deep.equal({
      instanceId: 'i-0123456789abcdef0',
      ami: NEW,
      pool: 'bld-linux64',
      region: 'us-east-1',
      verdict: 'launchable',
      reason: `${NEW} is the image fleet launches for bld-linux64 in us-east-1`,
      name: 'bld-linux64-spot-003',
    });
  });

  it('an outdated image: exit 3, naming the image fleet launches instead', async () => {
    const r = await checkAmi(fleetWorkspace(), { ...WORKER, ami: OLD }, ['--json']);
    expect(r.code, r.stderr).to.equal(3);
    expect(json(r)).to.include({ verdict: 'outdated', ami: OLD });
    expect(json(r).reason).to.match(
      new RegExp(`^${OLD} is outdated: fleet launches ${NEW} \\(2026-11-20T04:00:00.000Z\\) for bld-linux64 in us-east-1$`),
    );
  });

  it('a drained image: exit 4; the previous image, launched again, is launchable', async () => {
    const ws = fleetWorkspace(undefined, { [NEW]: { reason: 'kernel panic', at: Date.parse('2026-11-20T06:00:00Z'), by: 'operator' } });
    const drained = await checkAmi(ws, WORKER, ['--json']);
    expect(drained.code, drained.stderr).to.equal(4);
    expect(json(drained)).to.include({ verdict: 'drained', reason: `${NEW} is drained: fleet never launches it again` });
    const previous = await checkAmi(ws, { ...WORKER, ami: OLD }, ['--json']);
    expect(previous.code, previous.stderr).to.equal(0);
    expect(json(previous)).to.include({ verdict: 'launchable' });
  });

  it('an unreadable manifest and no last good copy: exit 1, cannot tell', async () => {
    const r = await checkAmi(fleetWorkspace('{"images": [{"id": "ami-0bad"'), WORKER, ['--json']);
    expect(r.code, r.stderr).to.equal(1);
    expect(json(r)).to.include({ verdict: 'unknown', instanceId: WORKER.instanceId, ami: NEW, pool: 'bld-linux64' });
    expect(json(r).reason).to.match(/^the manifest is unreadable and no last good copy exists \(manifest: not JSON/);
  });

  it('an unreadable manifest with a last good copy in the state store: the copy decides, and the line says so', async () => {
    const ws = fleetWorkspace('not json');
    mkdirSync(join(ws.dir, 'state'), { recursive: true });
    const location = join(ws.dir, 'amis.json');
    writeFileSync(
      join(ws.dir, 'state', 'last-good-manifest.json'),
      JSON.stringify({ location, text: JSON.stringify(MANIFEST), savedAt: 0 }),
    );
    const r = await checkAmi(ws, { ...WORKER, ami: OLD });
    expect(r.code, r.stderr).to.equal(3);
    expect(r.stdout).to.match(/^fleet check-ami: outdated \(exit 3\): .*; manifest: the last good copy \(manifest: not JSON/);
  });

  it('unreadable drained marks: exit 1, cannot tell', async () => {
    const ws = fleetWorkspace();
    mkdirSync(join(ws.dir, 'state'), { recursive: true });
    writeFileSync(join(ws.dir, 'state', 'drained.json'), '{"amis": ');
    const r = await checkAmi(ws, WORKER, ['--json']);
    expect(r.code, r.stderr).to.equal(1);
    expect(json(r).reason).to.match(/^the drained marks are unreadable \(drained\.json in /);
  });

  it('instance metadata down: exit 1 with every field null but the verdict and reason', async () => {
    const r = await checkAmi(fleetWorkspace(), 'http://127.0.0.1:9', ['--json']);
    expect(r.code, r.stderr).to.equal(1);
    const out = json(r);
    expect(out).to.include({ instanceId: null, ami: null, pool: null, region: null, name: null, verdict: 'unknown' });
    expect(out.reason).to.match(
      /^cannot read instance metadata at http:\/\/127\.0\.0\.1:9: PUT \/latest\/api\/token: ECONNREFUSED \(3 tries\)$/,
    );
  });

  it('instance metadata failing for a moment: the retries carry the check through', async () => {
    const imds = await startImds(WORKER);
    imdses.push(imds);
    imds.failNext(2);
    const r = await checkAmi(fleetWorkspace(), imds.endpoint);
    expect(r.code, r.stderr).to.equal(0);
    expect(imds.requests.slice(0, 3).map((q) => `${q.method} ${q.path} ${q.status}`)).to.deep.equal([
      'PUT /latest/api/token 500',
      'PUT /latest/api/token 500',
      'PUT /latest/api/token 200',
    ]);
  });

  it('uses IMDSv2 only: a token first, with a TTL, then every GET carries it', async () => {
    const imds = await startImds(WORKER);
    imdses.push(imds);
    const r = await checkAmi(fleetWorkspace(), imds.endpoint);
    expect(r.code, r.stderr).to.equal(0);
    expect(imds.requests[0]).to.deep.include({ method: 'PUT', path: '/latest/api/token', status: 200 });
    expect(imds.ttls).to.have.length(1);
    expect(imds.requests.filter((q) => q.status === 401)).to.deep.equal([]);
    // the pool came from its tag, so user data was never read
    expect(imds.requests.map((q) => q.path)).not.to.include('/latest/user-data');
    expect(imds.requests.map((q) => q.path)).to.include.members([
      '/latest/meta-data/tags/instance',
      '/latest/meta-data/tags/instance/fleet:pool',
    ]);
  });

  it('AWS_EC2_METADATA_DISABLED=true: metadata is not asked, exit 1', async () => {
    const imds = await startImds(WORKER);
    imdses.push(imds);
    const r = await checkAmi(fleetWorkspace(), imds.endpoint, ['--json'], { AWS_EC2_METADATA_DISABLED: 'true' });
    expect(r.code, r.stderr).to.equal(1);
    expect(json(r).reason).to.equal('instance metadata is disabled (AWS_EC2_METADATA_DISABLED)');
    expect(imds.requests).to.deep.equal([]);
  });

  it('no fleet:pool tag: the pool comes from moz_instance_type in YAML user data, which is never printed', async () => {
    const legacy: InstanceMetadata = { ...WORKER, ami: OLD, tags: undefined, userData: SECRET_USER_DATA };
    const text = await checkAmi(fleetWorkspace(), legacy);
    expect(text.code, text.stderr).to.equal(3);
    expect(text.stdout).to.match(/\[i-0123456789abcdef0; pool bld-linux64; us-east-1; pool from user data\]$/m);
    const r = await checkAmi(fleetWorkspace(), legacy, ['--json', '--debug']);
    expect(r.code, r.stderr).to.equal(3);
    expect(json(r)).to.include({ pool: 'bld-linux64', verdict: 'outdated', name: null });
    for (const out of [text.stdout, text.stderr, r.stdout, r.stderr]) expect(out).not.to.include('hunter2');
  });

  it('no pool anywhere (user data not YAML): exit 1, saying where it looked', async () => {
    const r = await checkAmi(fleetWorkspace(), { ...WORKER, tags: { Name: 'w' }, userData: '#!/bin/sh\necho "token: [s3cret"\n' }, [
      '--json',
    ]);
    expect(r.code, r.stderr).to.equal(1);
    expect(json(r)).to.include({ pool: null, verdict: 'unknown', name: 'w' });
    expect(json(r).reason).to.equal('no fleet:pool tag and no moz_instance_type in YAML user data: the pool is unknown');
    expect(r.stdout).not.to.include('s3cret');
  });

  it('a worker of a batched launch takes its name from fleet:names at its launch index', async () => {
    const batched: InstanceMetadata = {
      ...WORKER,
      launchIndex: 3,
      tags: { 'fleet:pool': 'bld-linux64', 'fleet:names': 'bld-linux64-spot-{nnn} 3-5,9' },
    };
    const r = await checkAmi(fleetWorkspace(), batched, ['--json']);
    expect(r.code, r.stderr).to.equal(0);
    expect(json(r).name).to.equal('bld-linux64-spot-009');
  });

  it('no placement/region in metadata: the region of the availability zone', async () => {
    const r = await checkAmi(fleetWorkspace(), { ...WORKER, region: undefined, az: 'us-west-2c', ami: 'ami-0ccc3333' }, ['--json']);
    expect(r.code, r.stderr).to.equal(0);
    expect(json(r)).to.include({ region: 'us-west-2', verdict: 'launchable' });
  });

  it("reads Mozilla's amis.json as its publisher wrote it", async () => {
    const ws = fleetWorkspace();
    copyFileSync(new URL('../fixtures/mozilla-amis.json', import.meta.url), join(ws.dir, 'amis.json'));
    const current = await checkAmi(ws, { ...WORKER, ami: 'ami-4c21f826' });
    expect(current.code, current.stdout).to.equal(0);
    const previous = await checkAmi(ws, { ...WORKER, ami: 'ami-0b7e5a3d' }, ['--json']);
    expect(previous.code, previous.stdout).to.equal(3);
    expect(json(previous).reason).to.equal(
      'ami-0b7e5a3d is outdated: fleet launches ami-4c21f826 (2015-11-20T04:01:00.000Z) for bld-linux64 in us-east-1',
    );
  });

  it('a configuration error is exit 2 with one line, whatever metadata says', async () => {
    const ws = workspace({ fleet: 'releng' }, []);
    const r = await checkAmi(ws, 'http://127.0.0.1:9');
    expect(r.code).to.equal(2);
    expect(r.stdout).to.equal('');
    expect(r.stderr.trim()).to.match(/^fleet: config manifest: not set/);
    const https = await checkAmi(fleetWorkspace(), WORKER, [], { FLEET_STATE: 'https://example.com/state/' });
    expect(https.code).to.equal(2);
    expect(https.stderr).to.match(/config state: must be s3:\/\/bucket\/prefix\/ or a local directory/);
  });
});

describe('cli: fleet check-ami under the shipped worker policy (policies/iam/fleet-worker.json)', function () {
  this.timeout(30_000);
  const WORKER_POLICY = loadPolicy('policies/iam/fleet-worker.json');
  let s3: IamS3;
  let imds: FakeImds | undefined;

  beforeEach(async () => {
    s3 = await startIamS3(WORKER_POLICY);
    s3.put('releng-golden-amis', 'amis.json', JSON.stringify(MANIFEST));
    // The service's journal is there, but not granted to workers: it holds every pool's launch parameters.
    s3.put(
      'releng-fleet-control',
      'state/reconciler.json',
      JSON.stringify({ version: 2, timers: {}, launches: [], terminated: {}, endsSeen: {}, established: {} }),
    );
    s3.put(
      'releng-fleet-control',
      'state/images.json',
      JSON.stringify({ version: 1, proved: { 'bld-linux64': { 'us-east-1': { [OLD]: Date.parse('2026-11-20T00:00:00Z') } } } }),
    );
  });
  afterEach(async () => {
    await imds?.close();
    await s3.close();
  });

  async function checkAmi(ami: string): Promise<RunResult> {
    const ws = workspace({ fleet: 'releng', manifest: 's3://releng-golden-amis/amis.json', state: 's3://releng-fleet-control/state/' }, []);
    imds = await startImds({ ...WORKER, ami });
    return fleet(['check-ami', '--config', ws.config, '--json'], {
      AWS_EC2_METADATA_DISABLED: 'false',
      AWS_EC2_METADATA_SERVICE_ENDPOINT: imds.endpoint,
      AWS_ENDPOINT_URL_S3: s3.endpoint,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'x',
      AWS_SECRET_ACCESS_KEY: 'y',
    });
  }
  const denied = () => s3.requests.filter((r) => r.endsWith(' 403'));

  it('a drained image: exit 4, reading only what the policy grants', async () => {
    s3.put('releng-fleet-control', 'state/drained.json', JSON.stringify({ amis: { [NEW]: { reason: 'bad', at: 0, by: 'operator' } } }));
    const r = await checkAmi(NEW);
    expect(r.code, r.stdout).to.equal(4);
    expect(denied()).to.deep.equal([]);
  });

  it('an outdated image: exit 3, from the proved images the service publishes', async () => {
    s3.put(
      'releng-fleet-control',
      'state/images.json',
      JSON.stringify({ version: 1, proved: { 'bld-linux64': { 'us-east-1': { [OLD]: 1, [NEW]: 2 } } } }),
    );
    const r = await checkAmi(OLD);
    expect(r.code, r.stdout).to.equal(3);
    expect(denied()).to.deep.equal([]);
  });

  it('no drained marks yet (a missing object, 404 under s3:ListBucket): the image every launch uses is launchable', async () => {
    const r = await checkAmi(OLD);
    expect(r.code, r.stdout).to.equal(0);
    expect(s3.requests).to.include('releng-fleet-control/state/drained.json 404');
    expect(denied()).to.deep.equal([]);
  });
});
