// Sources of demand end to end through the built binary: a real Prometheus server, an SQS queue on
// moto_server, and signed GitHub webhooks sent over HTTP to `fleet reconcile`'s own listener.

import { spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { CreateQueueCommand, ReceiveMessageCommand, SQSClient, SendMessageCommand } from '@aws-sdk/client-sqs';
import { expect } from 'chai';
import { BIN, fleet } from '../support/cli.js';
import { type MotoFleet, motoFleet } from '../support/moto-fleet.js';
import { motoClientConfig, useMoto } from '../support/moto.js';
import { usePrometheus } from '../support/prometheus.js';
import { freePort, until } from '../support/waiting.js';

const POOL = 'bld-linux64';

interface PlanJson {
  pools: {
    pool: string;
    desired: number;
    demand?: { pending: number; running: number; oldestPendingSeconds?: number; idle: number; explanation: string };
  }[];
}

async function planJson(world: MotoFleet): Promise<PlanJson['pools'][number]> {
  const r = await fleet(['plan', '--json', '--config', world.config], world.env);
  expect(r.code, r.stderr).to.equal(0);
  return (JSON.parse(r.stdout) as PlanJson).pools.find((p) => p.pool === POOL) as PlanJson['pools'][number];
}

async function reconcileOnce(world: MotoFleet) {
  const r = await fleet(['reconcile', '--once', '--config', world.config], world.env);
  expect(r.code, r.stderr).to.equal(0);
  return r;
}

describe('cli: demand from Prometheus (a real prometheus server, moto_server)', function () {
  this.timeout(120_000);
  const moto = useMoto(this);
  const prometheus = usePrometheus(this);
  const PENDING = `ci_jobs_pending{pool="${POOL}"}`;
  const RUNNING = `ci_jobs_running{pool="${POOL}"}`;

  it('plans from the queries, and keeps the last good value when the answer turns into nonsense', async () => {
    await moto().reset();
    const prom = prometheus();
    prom.gauges.set(PENDING, '5');
    prom.gauges.set(RUNNING, '2');
    await prom.settle(PENDING, '5');
    const world = await motoFleet(moto().endpoint, {
      config: { metrics: { port: 0 } },
      policy: { demand: { idleTimeout: 3600, source: { prometheus: { url: prom.url, pending: PENDING, running: RUNNING } } } },
    });
    try {
      const planned = await planJson(world);
      expect(planned.desired).to.equal(7);
      expect(planned.demand).to.include({ pending: 5, running: 2 });
      const plan = await fleet(['plan', '--config', world.config], world.env);
      expect(plan.stdout).to.include(
        `DEMAND: ${POOL} pending 5, running 2, idle workers 0; desired 7: pending 5 + running 2 ×1 + minIdle 0 = 7`,
      );
      expect((await reconcileOnce(world)).stdout).to.match(/launched 7, terminated 0/);

      for (const bad of ['NaN', '-3', '+Inf']) {
        prom.gauges.set(PENDING, bad);
        await prom.settle(PENDING, bad === '+Inf' ? '+Inf' : bad);
        const r = await reconcileOnce(world);
        expect(r.stdout, bad).to.match(/launched 0, terminated 0/);
        expect(r.stderr, bad).to.include('demand source failed; keeping the last good values');
        expect(r.stderr, bad).to.include(`pending query: value ${bad}`);
        expect((await planJson(world)).desired, bad).to.equal(7);
      }
    } finally {
      await world.proxy.close();
    }
  });
});

describe("cli: demand from an SQS queue's depth (moto_server)", function () {
  this.timeout(90_000);
  const moto = useMoto(this);

  it('waiting messages are pending jobs, messages in flight running ones', async () => {
    await moto().reset();
    const sqs = new SQSClient(motoClientConfig(moto().endpoint));
    const queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: 'ci-jobs' }))).QueueUrl as string;
    for (let n = 0; n < 4; n++) await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: `job ${n}` }));
    await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 1, VisibilityTimeout: 600 }));
    const world = await motoFleet(moto().endpoint, {
      config: { metrics: { port: 0 } },
      policy: { demand: { minIdle: 1, source: { sqs: { queueUrl } } } },
    });
    try {
      const planned = await planJson(world);
      expect(planned.demand).to.include({ pending: 3, running: 1 });
      expect(planned.desired).to.equal(5);
    } finally {
      await world.proxy.close();
    }
  });
});

describe("cli: demand from GitHub workflow_job webhooks sent to reconcile's listener (moto_server)", function () {
  this.timeout(120_000);
  const moto = useMoto(this);
  const SECRET = 'webhook-test-secret';

  it('counts signed deliveries; a forged or replayed one changes nothing', async () => {
    await moto().reset();
    const port = await freePort();
    const world = await motoFleet(moto().endpoint, {
      config: { metrics: { port: 0 }, interval: 3600, webhooks: { port } },
      policy: { demand: { source: { github: { labels: ['self-hosted', 'linux', 'bld'] } } } },
    });
    const service = spawn(process.execPath, [BIN, 'reconcile', '--config', world.config], {
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '/tmp',
        AWS_EC2_METADATA_DISABLED: 'true',
        ...world.env,
        FLEET_WEBHOOKS_GITHUB_SECRET: SECRET,
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    service.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    try {
      await until(
        'webhook listener',
        () => Promise.resolve(stderr.includes('listening for GitHub webhooks') ? true : undefined),
        30_000,
        () => stderr,
      );
      const send = (delivery: string, id: number, action: string, secret = SECRET, labels = ['self-hosted', 'Linux', 'bld', 'x64']) => {
        const body = JSON.stringify({ action, workflow_job: { id, labels, created_at: new Date(Date.now() - 60_000).toISOString() } });
        return fetch(`http://127.0.0.1:${port}/`, {
          method: 'POST',
          body,
          headers: {
            'x-github-event': 'workflow_job',
            'x-github-delivery': delivery,
            'x-hub-signature-256': `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`,
          },
        });
      };
      for (const [delivery, id, action] of [
        ['d1', 1, 'queued'],
        ['d2', 2, 'queued'],
        ['d3', 3, 'queued'],
        ['d4', 3, 'in_progress'],
      ] as const) {
        expect((await send(delivery, id, action)).status).to.equal(200);
      }
      expect((await send('d5', 4, 'queued', 'another-secret')).status).to.equal(401); // forged: signed with another secret
      expect((await send('d5', 4, 'queued', SECRET, ['self-hosted', 'windows'])).status).to.equal(200); // another pool's job
      expect((await send('d2', 2, 'completed')).status).to.equal(409); // a replay of delivery d2
      expect((await send('d6', 9, 'queued', 'not-the-secret')).status).to.equal(401);

      const planned = await planJson(world);
      expect(planned.demand).to.include({ pending: 2, running: 1 });
      expect(planned.demand?.oldestPendingSeconds).to.be.at.least(60);
      expect(planned.desired).to.equal(3);
    } finally {
      const exited = new Promise((resolve) => service.once('exit', resolve));
      service.kill('SIGTERM');
      await exited;
      await world.proxy.close();
    }
  });
});
