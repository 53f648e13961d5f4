import { expect } from 'chai';
import { pino } from 'pino';
import { bounded } from '../../../src/cloud/aws/bounded.js';
import { bounds, deadlineExceeded } from '../../../src/cloud/bounds.js';
import { CloudError } from '../../../src/cloud/errors.js';
import { withRetry } from '../../../src/cloud/retry.js';
import { Shutdown } from '../../../src/cloud/shutdown.js';
import { systemClock } from '../../../src/domain/clock.js';
import { rejection } from '../../support/expect.js';

const transient = () => Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });

describe('bounds: a whole call and its retries', () => {
  it('no retry starts once the call signal is aborted, and a backoff in progress ends at once', async () => {
    const controller = new AbortController();
    let calls = 0;
    const started = Date.now();
    const call = withRetry(
      async () => {
        calls++;
        // The first failure is followed by a 10 s backoff, which the abort cuts short.
        setTimeout(() => controller.abort(deadlineExceeded('EC2', 90_000)), 20);
        throw transient();
      },
      { clock: systemClock, random: () => 0.999, attempts: 6, baseDelayMs: 10_000, maxDelayMs: 10_000, signal: controller.signal },
    );
    const error = await rejection(call);
    expect(calls).to.equal(1);
    expect(error).to.be.instanceOf(CloudError).and.include({ code: 'DeadlineExceeded', errorClass: 'transient' });
    expect(Date.now() - started).to.be.below(5_000);
  });

  it('an attempt is handed the call signal, so it can abort its request', async () => {
    const controller = new AbortController();
    let seen: AbortSignal | undefined;
    await withRetry(async (signal) => (seen = signal), {
      clock: systemClock,
      random: () => 0,
      attempts: 1,
      baseDelayMs: 1,
      maxDelayMs: 1,
      signal: controller.signal,
    });
    expect(seen).to.equal(controller.signal);
  });
});

describe('bounds: an SDK client under the adapter', () => {
  const never = () => ({
    send: (_command: unknown, options: { abortSignal?: AbortSignal } = {}) =>
      new Promise((_resolve, reject) => options.abortSignal?.addEventListener('abort', () => reject(new Error('Request aborted')))),
  });
  const limits = (shutdown: Shutdown, totalMs: number) => ({
    service: 'EC2',
    bounds: { connectMs: 10, requestMs: 10, totalMs },
    abort: () => shutdown.signal,
    log: pino({ level: 'silent' }),
  });

  it('a call that never answers fails at its deadline, naming the service', async () => {
    const client = bounded(never(), limits(new Shutdown(), 50));
    const error = await rejection(client.send({}));
    expect(error).to.be.instanceOf(CloudError).and.include({ code: 'DeadlineExceeded' });
    expect(error.message).to.equal('EC2 gave no answer within 0.1 s');
  });

  it('shutdown aborts the calls in flight at once; a last window lets calls through again', async () => {
    const shutdown = new Shutdown();
    const client = bounded(never(), limits(shutdown, 60_000));
    const inFlight = rejection(client.send({}));
    shutdown.abort();
    expect(await inFlight).to.include({ code: 'ShuttingDown' });
    expect(await rejection(client.send({}))).to.include({ code: 'ShuttingDown' });
    shutdown.lastWindow(50);
    const answered = bounded({ send: async (_command: unknown) => 'ok' }, limits(shutdown, 60_000));
    expect(await answered.send({})).to.equal('ok');
  });

  it('a caller that ignores the signal is still left behind at the deadline', async () => {
    const deaf = bounded({ send: (_command: unknown) => new Promise(() => {}) }, limits(new Shutdown(), 30));
    expect(await rejection(deaf.send({}))).to.include({ code: 'DeadlineExceeded' });
  });
});

describe('bounds: the documented defaults', () => {
  it('EC2 5 s / 30 s / 90 s, S3 5 s / 30 s / 60 s, IMDS 1 s × 3, check-ami 60 s, SIGTERM 10 s + 5 s', () => {
    const b = bounds({});
    expect(b.ec2).to.deep.equal({ connectMs: 5_000, requestMs: 30_000, totalMs: 90_000 });
    expect(b.s3).to.deep.equal({ connectMs: 5_000, requestMs: 30_000, totalMs: 60_000 });
    expect(b.imds).to.deep.equal({ timeoutMs: 1_000, attempts: 3 });
    expect(b.bootS3).to.deep.equal({ connectMs: 2_000, requestMs: 10_000, totalMs: 30_000, attempts: 3 });
    expect([b.checkAmiMs, b.stopGraceMs, b.releaseMs]).to.deep.equal([60_000, 10_000, 5_000]);
  });

  it('FLEET_BOUNDS_SCALE shortens them, never below 200 ms; nonsense is ignored', () => {
    expect(bounds({ FLEET_BOUNDS_SCALE: '0.1' }).ec2).to.deep.equal({ connectMs: 500, requestMs: 3_000, totalMs: 9_000 });
    expect(bounds({ FLEET_BOUNDS_SCALE: '0.01' }).imds.timeoutMs).to.equal(200);
    expect(bounds({ FLEET_BOUNDS_SCALE: '7' }).ec2.totalMs).to.equal(90_000);
  });
});
