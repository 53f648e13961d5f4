import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startBlackHole, startTrickle, type StallServer } from '../support/blackhole.js';
import { BIN, type RunResult, fleet, workspace, sdkNotice } from '../support/cli.js';
import { startImds } from '../support/imds.js';

// Every network call is bounded: the built binary against endpoints that accept connections and
// never answer (a black hole) or answer a byte every few seconds (a trickle), standing in for EC2,
// S3, SQS, the Price List API and IMDS. FLEET_BOUNDS_SCALE=0.05 shortens every documented bound
// (docs/bounds.md) twentyfold so the suite stays quick; the limits asserted here are far above the
// scaled bounds and far below "forever".

const SCALE = '0.05';
/** Generous for a loaded machine; the scaled bounds are a few seconds. */
const RETURNS_WITHIN_MS = 60_000;

const QUEUE = 'https://sqs.us-east-1.amazonaws.com/123456789012/fleet-events';

function awsEnv(endpoint: string): Record<string, string> {
  return {
    AWS_ENDPOINT_URL: endpoint,
    AWS_ENDPOINT_URL_EC2: endpoint,
    AWS_ENDPOINT_URL_S3: endpoint,
    AWS_ENDPOINT_URL_SQS: endpoint,
    AWS_ENDPOINT_URL_PRICING: endpoint,
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
    AWS_REGION: 'us-east-1',
    AWS_CONFIG_FILE: '/dev/null',
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    FLEET_BOUNDS_SCALE: SCALE,
  };
}

/** Inputs in S3, the state in a local directory (so the lease can be read back), events from SQS. */
function fleetWorkspace(): { dir: string; config: string } {
  return workspace(
    {
      fleet: 'releng',
      regions: ['us-east-1'],
      manifest: 's3://golden-amis/amis.json',
      desired: 's3://fleet-control/desired.json',
      events: { queue: QUEUE },
      interval: 30,
      log: { level: 'info' },
      metrics: { port: 0 },
    },
    [
      {
        pool: 'bld-linux64',
        instanceTypes: ['c5.xlarge'],
        regions: { 'us-east-1': { subnets: ['subnet-0abc'], securityGroups: [] } },
        size: { min: 0, max: 10 },
        names: 'bld-linux64-spot-{nnn}',
      },
    ],
  );
}

/** stderr holds pino JSON lines and, at most, the command's one `fleet: ...` line: no raw SDK output. */
function errorLines(r: RunResult): string[] {
  const lines = r.stderr.split('\n').filter((l) => l !== '');
  const raw = lines.filter((l) => !l.startsWith('{'));
  for (const l of lines.filter((x) => x.startsWith('{'))) expect(() => JSON.parse(l), l).not.to.throw();
  expect(r.stderr).not.to.match(/@smithy\/node-http-handler - \[WARN\]/);
  return raw;
}

async function timed(run: () => Promise<RunResult>): Promise<RunResult & { ms: number }> {
  const started = Date.now();
  const r = await run();
  return { ...r, ms: Date.now() - started };
}

for (const kind of ['black hole', 'trickle'] as const) {
  describe(`cli: every network call is bounded (AWS endpoints are a ${kind})`, function () {
    this.timeout(RETURNS_WITHIN_MS + 15_000);
    let server: StallServer;

    before(async () => {
      server = kind === 'black hole' ? await startBlackHole() : await startTrickle(2_000);
    });
    after(async () => server.close());

    const commands: readonly (readonly string[])[] = [
      ['plan'],
      ['status'],
      ['reconcile', '--once'],
      ['drain', '--ami', 'ami-0aaa1111'],
      ['amis', 'list'],
    ];
    it(`${commands.map((c) => c.join(' ')).join(', ')}: each fails with one line and exit 1, within its bound`, async () => {
      const before = server.accepted();
      // Side by side: each waits on its own deadlines, not on the others.
      const results = await Promise.all(
        commands.map((args) =>
          timed(() =>
            fleet([...args, '--config', fleetWorkspace().config], awsEnv(server.endpoint), { timeoutMs: RETURNS_WITHIN_MS + 10_000 }),
          ),
        ),
      );
      results.forEach((r, n) => {
        const command = commands[n]?.join(' ');
        expect(r.ms, `${command} still running: ${r.stderr}`).to.be.below(RETURNS_WITHIN_MS);
        expect(r.code, `${command}: ${r.stderr}`).to.equal(1);
        const raw = errorLines(r);
        expect(raw, `${command}: ${r.stderr}`).to.have.length(1);
        expect(raw[0], command).to.match(/^fleet: .*(gave no answer within|could not be taken)/);
      });
      expect(server.accepted(), 'the endpoint was reached').to.be.above(before + commands.length);
    });

    it('reconcile (the service) exits 0 soon after SIGTERM with a call hanging, and releases its lease', async () => {
      const ws = fleetWorkspace();
      const child = spawn(process.execPath, [BIN, 'reconcile', '--config', ws.config], {
        env: {
          PATH: process.env.PATH ?? '',
          HOME: process.env.HOME ?? '/tmp',
          AWS_EC2_METADATA_DISABLED: 'true',
          ...sdkNotice(),
          ...awsEnv(server.endpoint),
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
      const killer = setTimeout(() => child.kill('SIGKILL'), RETURNS_WITHIN_MS + 10_000);
      try {
        // The lease is held and the first cycle is waiting on the endpoint.
        const deadline = Date.now() + 20_000;
        while (!/leader lease acquired/.test(stderr) || server.accepted() === 0) {
          if (Date.now() > deadline) throw new Error(`the service did not start its first cycle:\n${stderr}`);
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        const lease = JSON.parse(readFileSync(join(ws.dir, 'state', 'lease.json'), 'utf8')) as { expiresAt: number };
        expect(lease.expiresAt).to.be.above(Date.now());
        const signalled = Date.now();
        child.kill('SIGTERM');
        const code = await exited;
        expect(Date.now() - signalled, `still running after SIGTERM:\n${stderr}`).to.be.below(RETURNS_WITHIN_MS);
        expect(code, stderr).to.equal(0);
        const released = JSON.parse(readFileSync(join(ws.dir, 'state', 'lease.json'), 'utf8')) as { expiresAt: number };
        expect(released.expiresAt, 'lease released').to.equal(0);
        expect(stderr).to.match(/leader lease released/);
        expect(errorLines({ code, stdout: '', stderr })).to.deep.equal([]);
      } finally {
        clearTimeout(killer);
        child.kill('SIGKILL');
      }
    });

    describe('check-ami: exit 1 `unknown`, within its bound', () => {
      const WORKER = {
        instanceId: 'i-0123456789abcdef0',
        ami: 'ami-0bbb2222',
        region: 'us-east-1',
        az: 'us-east-1b',
        tags: { 'fleet:managed-by': 'releng', 'fleet:pool': 'bld-linux64', Name: 'bld-linux64-spot-003' },
      };

      async function checkAmi(imdsEndpoint: string, manifest: string): Promise<RunResult & { ms: number }> {
        const ws = workspace({ fleet: 'releng', manifest }, []);
        mkdirSync(join(ws.dir, 'state'), { recursive: true });
        writeFileSync(
          join(ws.dir, 'amis.json'),
          JSON.stringify({ images: [{ id: WORKER.ami, pool: 'bld-linux64', region: 'us-east-1', created: '2026-11-20T04:00:00Z' }] }),
        );
        return timed(() =>
          fleet(
            ['check-ami', '--json', '--config', ws.config],
            { ...awsEnv(server.endpoint), AWS_EC2_METADATA_DISABLED: 'false', AWS_EC2_METADATA_SERVICE_ENDPOINT: imdsEndpoint },
            { timeoutMs: RETURNS_WITHIN_MS + 10_000 },
          ),
        );
      }

      function expectUnknown(r: RunResult & { ms: number }, reason: RegExp): void {
        expect(r.ms, `check-ami still running: ${r.stderr}`).to.be.below(RETURNS_WITHIN_MS);
        expect(r.code, r.stderr).to.equal(1);
        const out = JSON.parse(r.stdout) as { verdict: string; reason: string };
        expect(out.verdict).to.equal('unknown');
        expect(out.reason).to.match(reason);
        expect(errorLines(r)).to.deep.equal([]);
      }

      it(`instance metadata is a ${kind}`, async () => {
        const r = await checkAmi(server.endpoint, 'amis.json');
        expectUnknown(r, /^cannot read instance metadata at .*PUT \/latest\/api\/token/);
      });

      it(`instance metadata answers; S3 (the manifest) is a ${kind}`, async () => {
        const imds = await startImds(WORKER);
        try {
          const r = await checkAmi(imds.endpoint, 's3://golden-amis/amis.json');
          expectUnknown(r, /the manifest is unreadable/);
          expect(server.accepted()).to.be.above(0);
        } finally {
          await imds.close();
        }
      });
    });
  });
}
