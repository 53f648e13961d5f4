import { expect } from 'chai';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type RunResult, fleet, workspace } from '../support/cli.js';
import { type FakeImds, type InstanceMetadata, startImds, startTrap } from '../support/imds.js';
import { until } from '../support/waiting.js';

// `fleet worker` as a worker runs it after boot: the built binary against a simulated IMDSv2 whose
// tags and spot notice change while it runs. No AWS endpoint may be called (a trap answers them).

const AMI = 'ami-0bbb2222';
const MANIFEST = {
  images: [{ id: AMI, pool: 'bld-linux64', region: 'us-east-1', created: '2026-11-20T04:00:00Z', name: 'bld-linux64-2026-11-20' }],
};
const WORKER: InstanceMetadata = {
  instanceId: 'i-0123456789abcdef0',
  ami: AMI,
  region: 'us-east-1',
  az: 'us-east-1b',
  tags: { 'fleet:managed-by': 'releng', 'fleet:pool': 'bld-linux64', Name: 'bld-linux64-spot-003' },
};

describe('cli: fleet worker watches for a request to leave', function () {
  this.timeout(90_000);

  let trap: Awaited<ReturnType<typeof startTrap>>;
  let imds: FakeImds;
  before(async () => {
    trap = await startTrap();
  });
  after(async () => {
    await trap.close();
  });
  beforeEach(async () => {
    imds = await startImds(WORKER);
  });
  afterEach(async () => {
    await imds.close();
    expect(trap.calls.splice(0), 'AWS calls made').to.deep.equal([]);
  });

  function fleetWorkspace(drained?: Record<string, unknown>): { dir: string; config: string } {
    const ws = workspace({ fleet: 'releng', manifest: 'amis.json' }, []);
    writeFileSync(join(ws.dir, 'amis.json'), JSON.stringify(MANIFEST));
    if (drained) {
      mkdirSync(join(ws.dir, 'state'), { recursive: true });
      writeFileSync(join(ws.dir, 'state', 'drained.json'), JSON.stringify({ amis: drained }));
    }
    return ws;
  }

  function worker(ws: { config: string }, args: string[]): Promise<RunResult> {
    return fleet(
      ['worker', '--config', ws.config, '--poll', '1', ...args],
      {
        AWS_EC2_METADATA_DISABLED: 'false',
        AWS_EC2_METADATA_SERVICE_ENDPOINT: imds.endpoint,
        AWS_ENDPOINT_URL: trap.endpoint,
        AWS_ENDPOINT_URL_EC2: trap.endpoint,
        AWS_ENDPOINT_URL_S3: trap.endpoint,
        AWS_ACCESS_KEY_ID: 'x',
        AWS_SECRET_ACCESS_KEY: 'y',
      },
      { timeoutMs: 80_000 },
    );
  }

  /**
   * Reads of its tag list the worker makes at start, before it watches: its own identity, then
   * check-ami's. Only reads after these are the watch's polls.
   */
  const STARTUP_TAG_READS = 2;

  /** Resolves once the worker has polled its tags at least `n` times. */
  const polled = (n: number) =>
    until(
      'tag polls',
      async () => (imds.requests.filter((r) => r.path.endsWith('/tags/instance')).length >= n ? true : undefined),
      60_000,
      () => JSON.stringify(imds.requests.slice(-5)),
    );

  it('on fleet:retire, runs the hook with the deadline and exits 3', async () => {
    const ws = fleetWorkspace();
    const marker = join(ws.dir, 'hook-ran');
    const running = worker(ws, ['--json', '--on-retire', `echo "$FLEET_LEAVE $FLEET_DEADLINE $FLEET_NAME" > ${marker}`]);
    await polled(2);
    imds.setTag('fleet:retire', '2099-01-01T00:00:00Z');
    const r = await running;
    expect(r.code, r.stderr).to.equal(3);
    const line = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(line).to.include({
      outcome: 'leave',
      leave: 'retire',
      deadline: '2099-01-01T00:00:00.000Z',
      name: 'bld-linux64-spot-003',
      exit: 3,
    });
    expect((line.hook as { exitCode: number }).exitCode).to.equal(0);
    expect(readFileSync(marker, 'utf8').trim()).to.equal('retire 2099-01-01T00:00:00.000Z bld-linux64-spot-003');
  });

  it('on a spot interruption notice, exits 3 even when the hook fails', async () => {
    const ws = fleetWorkspace();
    const running = worker(ws, ['--on-retire', 'exit 7']);
    await polled(1);
    imds.setSpotAction(JSON.stringify({ action: 'terminate', time: '2099-01-01T00:02:00Z' }));
    const r = await running;
    expect(r.code, r.stderr).to.equal(3);
    expect(r.stdout).to.match(
      /^fleet worker: leave \(exit 3\): spot interruption notice \(terminate, deadline 2099-01-01T00:02:00.000Z\); hook exited 7/,
    );
  });

  it('keeps watching through a spell of unreadable metadata', async () => {
    const ws = fleetWorkspace();
    const running = worker(ws, ['--json']);
    // Once it watches: failures during check-ami at start would be absorbed there (its verdict then is "cannot tell").
    await polled(STARTUP_TAG_READS + 1);
    imds.failNext(6);
    await until(
      'failed reads',
      async () => (imds.requests.filter((r) => r.status === 500).length >= 6 ? true : undefined),
      60_000,
      () => '',
    );
    imds.setTag('fleet:retire', '2099-01-01T00:00:00Z');
    const r = await running;
    expect(r.code, r.stderr).to.equal(3);
    expect(r.stderr).to.match(/cannot read instance metadata; trying again/);
  });

  it('exits 4 at start when its image is drained', async () => {
    const ws = fleetWorkspace({ [AMI]: { reason: 'kernel panic', at: Date.parse('2026-11-21T00:00:00Z'), by: 'operator' } });
    const r = await worker(ws, ['--json']);
    expect(r.code, r.stdout + r.stderr).to.equal(4);
    expect(JSON.parse(r.stdout)).to.include({ outcome: 'drained', exit: 4 });
  });

  it('exits 1 when its metadata cannot be read at start, and 2 on a bad --poll', async () => {
    const ws = fleetWorkspace();
    imds.hang();
    const r = await fleet(['worker', '--config', ws.config], {
      AWS_EC2_METADATA_DISABLED: 'false',
      AWS_EC2_METADATA_SERVICE_ENDPOINT: imds.endpoint,
    });
    expect(r.code, r.stdout + r.stderr).to.equal(1);
    expect(r.stdout).to.match(/^fleet worker: unknown \(exit 1\): cannot read instance metadata/);
    const bad = await fleet(['worker', '--config', ws.config, '--poll', '0']);
    expect(bad.code).to.equal(2);
  });
});
