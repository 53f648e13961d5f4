import { expect } from 'chai';
import { type Socket, connect, createServer } from 'node:net';
import type { FaultProxy } from '../support/fault-proxy.js';
import { motoEnv, useMoto } from '../support/moto.js';
import { startService, workspace } from '../support/cli.js';
import { motoFleet } from '../support/moto-fleet.js';
import { freePort, until } from '../support/waiting.js';

// A secret the service is given and must never show: not in logs, not on /metrics or /healthz.
const SECRET = 'metrics-cli-test-secret-0123456789';

function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

/** The service's environment: the account's, a one-second interval and its metrics port. */
function serviceEnv(env: Record<string, string>, port: number): Record<string, string> {
  return { PATH: process.env.PATH ?? '', ...env, FLEET_INTERVAL: '1', FLEET_METRICS_PORT: String(port) };
}

describe('cli: /metrics and /healthz while reconcile runs as a service (moto_server)', function () {
  this.timeout(60_000);
  const moto = useMoto(this);
  let proxy: FaultProxy;
  let env: Record<string, string>;
  let config: string;

  before(async () => {
    const world = await motoFleet(moto().endpoint);
    ({ proxy, config } = world);
    env = { ...world.env, AWS_SECRET_ACCESS_KEY: SECRET };
  });
  after(async () => proxy?.close());

  it('answers /healthz 200 and shows cycles, launches and API calls on /metrics; stops cleanly on SIGTERM', async () => {
    const port = await freePort();
    const { child, stderr, exited } = startService(['reconcile', '--config', config], serviceEnv(env, port));
    const base = `http://127.0.0.1:${port}`;
    try {
      const health = await until(
        '/healthz 200',
        async () => {
          const r = await fetch(`${base}/healthz`);
          return r.status === 200 ? ((await r.json()) as { status: string; lastSuccess: string | null }) : undefined;
        },
        30_000,
        stderr,
      );
      expect(health.status).to.be.oneOf(['starting', 'ok']);

      // Steady state: the three launches done, at least one more cycle after them.
      const text = await until(
        '/metrics with three launches and two ok cycles',
        async () => {
          const t = await (await fetch(`${base}/metrics`)).text();
          const ok = sample(t, 'fleet_cycles_total{result="ok"}') ?? 0;
          return ok >= 2 &&
            sample(t, 'fleet_actions_total{kind="launch",pool="bld-linux64",cause="scale-up",lifecycle="spot",result="ok"}') === 3
            ? t
            : undefined;
        },
        30_000,
        stderr,
      );
      expect(sample(text, 'fleet_pool_desired{pool="bld-linux64"}')).to.equal(3);
      expect(sample(text, 'fleet_pool_instances{pool="bld-linux64",lifecycle="spot"}')).to.equal(3);
      expect(sample(text, 'fleet_blocked')).to.equal(0);
      expect(sample(text, 'fleet_input_stale{input="desired"}')).to.equal(0);
      expect(sample(text, 'fleet_last_success_timestamp_seconds')).to.be.greaterThan(Date.now() / 1000 - 60);
      // What the service counted is what went over the wire.
      expect(sample(text, 'fleet_api_calls_total{region="us-east-1",action="RunInstances"}')).to.equal(
        proxy.calls.filter((c) => c.action === 'RunInstances').length,
      );
      expect(sample(text, 'fleet_api_calls_total{region="us-east-1",action="DescribeInstances"}')).to.be.at.least(2);
      // This replica leads; its name carries its pid.
      expect(text).to.match(new RegExp(`^fleet_leader\\{replica="[^"]+:${child.pid}:[0-9a-f]{6}"\\} 1$`, 'm'));
      // Three spot instances, priced (moto's constant spot price), against the policy's on-demand price.
      const spot = sample(text, 'fleet_cost_per_hour_dollars{pool="bld-linux64",lifecycle="spot"}') as number;
      const onDemand = sample(text, 'fleet_on_demand_equivalent_per_hour_dollars{pool="bld-linux64"}') as number;
      expect(spot).to.be.greaterThan(0);
      expect(onDemand).to.be.greaterThan(0);
      expect(sample(text, 'fleet_savings_ratio{pool="bld-linux64"}')).to.be.closeTo(1 - spot / onDemand, 1e-9);
      expect(sample(text, 'fleet_fallback_seconds_total{pool="bld-linux64"}')).to.equal(0);

      // A second replica on the same state stands by: healthy, not the leader, no pool figures.
      const standbyPort = await freePort();
      const {
        child: standby,
        stderr: standbyErr,
        exited: standbyExited,
      } = startService(['reconcile', '--config', config], serviceEnv(env, standbyPort));
      try {
        const waiting = await until(
          'the second replica standing by',
          async () => {
            const r = await fetch(`http://127.0.0.1:${standbyPort}/healthz`);
            const body = (await r.json()) as { status: string };
            return body.status === 'standby' ? { code: r.status, body } : undefined;
          },
          30_000,
          standbyErr,
        );
        expect(waiting.code).to.equal(200);
        const standbyText = await (await fetch(`http://127.0.0.1:${standbyPort}/metrics`)).text();
        expect(standbyText).to.match(new RegExp(`^fleet_leader\\{replica="[^"]+:${standby.pid}:[0-9a-f]{6}"\\} 0$`, 'm'));
        expect(standbyText).not.to.match(/^fleet_pool_desired\{/m);
      } finally {
        standby.kill('SIGTERM');
      }
      expect(await standbyExited, standbyErr()).to.equal(0);

      const healthz = await fetch(`${base}/healthz`);
      expect(healthz.status).to.equal(200);
      const body = (await healthz.json()) as { status: string; lastSuccess: string | null; lastError: unknown };
      expect(body.status).to.equal('ok');
      expect(body.lastSuccess).to.be.a('string');
      expect(body.lastError).to.equal(null);
      expect(text + JSON.stringify(body)).not.to.include(SECRET);
    } finally {
      child.kill('SIGTERM');
    }
    const code = await exited;
    expect(code, stderr()).to.equal(0);
    expect(stderr()).to.match(/"msg":"stopped"/);
    const listening = stderr()
      .split('\n')
      .filter((l) => l.includes('"msg":"serving /metrics and /healthz"'));
    expect(listening).to.have.length(1);
    expect(JSON.parse(listening[0] as string)).to.include({ port, level: 30 });
    expect(stderr()).not.to.include(SECRET);
    // The port is given back.
    const after = await fetch(`${base}/healthz`).then(
      () => 'answered',
      () => 'refused',
    );
    expect(after).to.equal('refused');
  });
});

describe('cli: the service under many idle connections to its metrics port (moto_server)', function () {
  this.timeout(90_000);
  const moto = useMoto(this);
  let proxy: FaultProxy;
  let env: Record<string, string>;
  let config: string;
  before(async () => ({ proxy, config, env } = await motoFleet(moto().endpoint)));
  after(async () => proxy?.close());

  it('keeps its lease and answers /healthz under a 256 open-file limit with 400 idle connections open', async () => {
    const port = await freePort();
    // The limit applies to the service only: sh sets it, then becomes node.
    const { child, stderr, exited } = startService(['reconcile', '--config', config], serviceEnv(env, port), [
      'sh',
      '-c',
      'ulimit -n 256 && exec "$0" "$@"',
      process.execPath,
    ]);
    const base = `http://127.0.0.1:${port}`;
    const okCycles = async () =>
      sample(await (await fetch(`${base}/metrics`, { signal: AbortSignal.timeout(2_000) })).text(), 'fleet_cycles_total{result="ok"}') ?? 0;
    const sockets: Socket[] = [];
    try {
      await until('a first ok cycle', async () => ((await okCycles()) >= 1 ? true : undefined), 30_000, stderr);
      for (let i = 0; i < 400; i++) {
        const socket = connect(port, '127.0.0.1');
        socket.on('error', () => {});
        sockets.push(socket);
      }
      const before = await until('/metrics with idle connections open', okCycles, 10_000, stderr);
      // Cycles go on (each renews the lease on S3, each needs sockets and files) and /healthz answers.
      await until('two more ok cycles', async () => ((await okCycles()) >= before + 2 ? true : undefined), 30_000, stderr);
      const health = await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(5_000) });
      expect(health.status).to.equal(200);
      expect(((await health.json()) as { status: string }).status).to.equal('ok');
      expect(stderr()).not.to.match(/leader lease lost|EMFILE/);
    } finally {
      for (const s of sockets) s.destroy();
      child.kill('SIGTERM');
    }
    expect(await exited, stderr()).to.equal(0);
  });
});

describe('cli: a metrics port already in use', () => {
  it('logs one error naming the port and runs on without the endpoints (a second replica on the host still works)', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, resolve));
    const port = (taken.address() as { port: number }).port;
    const cfg = workspace({ fleet: 'releng', regions: ['us-east-1'], manifest: 'amis.json', desired: 'desired.json' }, [
      {
        pool: 'bld-linux64',
        instanceTypes: ['c5.xlarge'],
        regions: { 'us-east-1': { subnets: ['subnet-0a1b'], securityGroups: [] } },
        size: { min: 0, max: 10 },
        names: 'bld-linux64-spot-{nnn}',
      },
    ]).config;
    // An endpoint nothing answers on: the cycles fail, the service carries on.
    const { child, stderr, exited } = startService(['reconcile', '--config', cfg], {
      PATH: process.env.PATH ?? '',
      ...motoEnv('http://127.0.0.1:9'),
      FLEET_INTERVAL: '1',
      FLEET_METRICS_PORT: String(port),
    });
    try {
      await until(
        'the port error and a cycle after it',
        async () => (/"msg":"cycle stopped"/.test(stderr()) ? true : undefined),
        20_000,
        stderr,
      );
      const lines = stderr()
        .split('\n')
        .filter((l) => l.includes('"msg":"metrics and health endpoints are off"'));
      expect(lines).to.have.length(1);
      expect(JSON.parse(lines[0] as string)).to.include({ port, error: `metrics port ${port} is already in use` });
      child.kill('SIGTERM');
      const code = await exited;
      expect(code, stderr()).to.equal(0);
    } finally {
      child.kill('SIGKILL');
      await new Promise((resolve) => taken.close(resolve));
    }
  });
});
