import type { AddressInfo, Server } from 'node:net';
import type { CallCounter } from '../../cloud/guarded.js';
import { startWebhookServer } from '../../demand/webhooks.js';
import type { Outcome } from '../../domain/outcome.js';
import { systemClock } from '../../domain/clock.js';
import { InputError, RuntimeFailure } from '../../domain/errors.js';
import { LeaderLease, type LeaseStatus, leaseGate, leaseTtlMs, replicaId } from '../../service/lease.js';
import { configWarnings } from '../../config/warnings.js';
import type { StateStore } from '../../shared/state-store.js';
import { runLoop } from '../../service/loop.js';
import { FleetMetrics, Health, startMetricsServer } from '../../service/metrics.js';
import type { PollReport } from '../../service/event-inbox.js';
import type { CycleResult } from '../../service/reconciler.js';
import { type Context, type GlobalOptions, awsRuntime, loadContext } from '../context.js';
import { PlanBlocked, planTable } from './plan.js';
import { bounds } from '../../cloud/bounds.js';
import { processShutdown } from '../../cloud/shutdown.js';

export function cycleSummary(result: CycleResult): string {
  if (result.dryRun && result.plan) return `dry run: nothing changed\n${planTable(result.plan, result.observation?.inputProblems)}`;
  const launches = result.outcomes.flatMap((o: Outcome) => o.launches);
  const terminations = result.outcomes.flatMap((o: Outcome) => o.terminations);
  const launched = launches.filter((l) => l.instance).length;
  const failed = launches.filter((l) => l.failure).length;
  const terminated = terminations.filter((t) => t.terminated).length;
  const parts = [`launched ${launched}`, `terminated ${terminated}`];
  if (failed > 0) parts.push(`launch failures ${failed}`);
  if (result.plan?.blocked) parts.push(`blocked: ${result.plan.blocked}`);
  if (result.error) parts.push(`stopped: ${result.error.message}`);
  return parts.join(', ');
}

/**
 * The actions a cycle sent and could not carry out, by error code: the cloud could not be reached
 * (retries ran out, an answer was lost, the lease ran out) or refused for good. Capacity refusals are
 * the market's answer (the cycle moved on to other offers) and are left out, as are launches never
 * sent because their offer had just refused or the launch bucket was empty.
 */
export function failedActions(result: CycleResult): string[] {
  const failures = [...result.outcomes.flatMap((o) => o.launches), ...result.outcomes.flatMap((o) => o.terminations)].flatMap((o) =>
    o.failure ? [o.failure] : [],
  );
  return failures.filter((f) => f.kind !== 'capacity' && !f.unsent).map((f) => f.code);
}

export async function reconcileCommand(global: GlobalOptions, options: { once?: boolean; dryRun?: boolean }): Promise<void> {
  const ctx = loadContext(global);
  const dryRun = options.dryRun ?? false;
  // One leader among replicas: only the holder of the lease mutates; a dry run needs none.
  // Every mutating call asks the lease right before it is sent (a dry run sends none and needs none).
  const runtime = awsRuntime(ctx, {
    readOnly: dryRun,
    ...(dryRun
      ? {}
      : { leaseFor: (state: StateStore) => new LeaderLease(state, replicaId(), leaseTtlMs(ctx.config.interval), systemClock, ctx.log) }),
  });
  const lease = runtime.lease as LeaderLease | undefined;
  const stop = stopOnSignals(ctx);
  if (options.once) {
    if (lease) {
      const status = await lease.acquireForOneRun();
      if (!status.held) throw new LeaseHeldError(status);
    }
    try {
      // A single cycle has no wait to spend on the queue: it reads what is queued first (as the lease
      // holder; a dry run leaves the queue alone), so its plan sees those events.
      if (runtime.inbox && !dryRun) await runtime.inbox.takeQueued();
      const result = await runtime.reconciler.cycle({ dryRun });
      process.stdout.write(`${cycleSummary(result)}\n`);
      if (result.error) throw new RuntimeFailure(`the cycle stopped: ${result.error.message}`);
      if (result.plan?.blocked) throw new PlanBlocked(result.plan.blocked);
      const failed = failedActions(result);
      if (failed.length > 0) {
        const codes = [...new Set(failed)].map((code) => `${code} ×${failed.filter((c) => c === code).length}`).join(', ');
        throw new RuntimeFailure(`${failed.length} action(s) failed (${codes}); see the log`);
      }
    } finally {
      await stop.release(lease);
    }
    return;
  }
  const webhooks = await serveWebhooks(ctx, runtime.state, dryRun);
  const observed = await serveMetrics(ctx, runtime.calls);
  ctx.log.info(
    { fleet: ctx.config.fleet, regions: ctx.config.regions, interval: ctx.config.interval, dryRun },
    'reconcile service started',
  );
  for (const warning of configWarnings(ctx.config, ctx.policies)) ctx.log.warn({ warning }, 'configuration');
  const standby = lease ? leaseGate(lease, ctx.log, (status) => observed.leader(lease.holder, status.held, status.leaderAlive)) : undefined;
  try {
    // The wait between cycles goes to EC2's events, on the leader only (a dry run leaves the queue alone).
    const events =
      runtime.inbox && !dryRun
        ? { inbox: runtime.inbox, mayPoll: () => (lease as LeaderLease).holds(), onPoll: observed.onPoll }
        : undefined;
    if (events) ctx.log.info({ queue: events.inbox.queueUrl }, 'reading EC2 events between cycles');
    await runLoop({
      reconciler: runtime.reconciler,
      intervalMs: ctx.config.interval * 1000,
      dryRun,
      log: ctx.log,
      signal: stop.signal,
      ...(standby ? { beforeCycle: standby } : {}),
      onCycle: observed.onCycle,
      ...(events ? { events } : {}),
    });
  } finally {
    await observed.close();
    await new Promise((resolve) => (webhooks ? webhooks.close(resolve) : resolve(undefined)));
    await stop.release(lease);
  }
}

/**
 * SIGTERM/SIGINT: no new cycle starts; the action in flight has `stopGraceMs`, then every call still
 * running is aborted; giving up the lease then has `releaseMs`. So the process exits within their
 * sum (docs/bounds.md) whatever the network does. A second signal ends the process at once.
 */
function stopOnSignals(ctx: Context) {
  const { stopGraceMs, releaseMs } = bounds();
  const stop = new AbortController();
  let grace: NodeJS.Timeout | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stop.signal.aborted) {
      ctx.log.warn({ signal }, 'stopping now: the leader lease expires on its own');
      process.exit(1);
    }
    ctx.log.info({ signal, graceMs: stopGraceMs }, 'stopping after the action in flight');
    stop.abort();
    grace = setTimeout(() => {
      ctx.log.warn({ graceMs: stopGraceMs }, 'the action in flight is taking too long: abandoning its calls');
      processShutdown.abort();
    }, stopGraceMs);
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  return {
    signal: stop.signal,
    /** Give the lease up within `releaseMs`, whatever is left running. */
    async release(lease: LeaderLease | undefined): Promise<void> {
      clearTimeout(grace);
      if (stop.signal.aborted) {
        processShutdown.abort();
        processShutdown.lastWindow(releaseMs);
      }
      await lease?.release();
    },
  };
}

/** The GitHub webhook listener on webhooks.port (0: off); its secret only ever comes from the environment. */
async function serveWebhooks(ctx: Context, state: StateStore, dryRun: boolean): Promise<Server | undefined> {
  const { port, host } = ctx.config.webhooks ?? { port: 0, host: '127.0.0.1' };
  if (port === 0) return undefined;
  const secret = process.env.FLEET_WEBHOOKS_GITHUB_SECRET ?? '';
  if (secret === '')
    throw new InputError(
      'config webhooks.port: set, but FLEET_WEBHOOKS_GITHUB_SECRET is not (the webhook secret comes from the environment only)',
    );
  if (dryRun) {
    ctx.log.warn({ port }, 'dry run: the webhook listener is off (it would write the state store)');
    return undefined;
  }
  const server = await startWebhookServer({ secret, state, log: ctx.log, now: () => systemClock.now() }, port, host);
  ctx.log.info({ host, port: (server.address() as AddressInfo).port }, 'listening for GitHub webhooks');
  return server;
}

class LeaseHeldError extends RuntimeFailure {
  constructor(status: LeaseStatus) {
    super(
      status.holder
        ? `another replica (${status.holder}) holds the leader lease until ${new Date(status.expiresAt ?? 0).toISOString()}; nothing changed`
        : `the leader lease could not be taken (${status.error ?? 'the lease document is malformed'}); nothing changed`,
    );
  }
}

/** /metrics and /healthz on metrics.port while the service runs; hooks that do nothing when it is 0. */
async function serveMetrics(ctx: Context, calls: CallCounter) {
  const port = ctx.config.metrics.port;
  if (port === 0) {
    return { onCycle: undefined, onPoll: undefined, leader: () => {}, close: async () => {} };
  }
  const metrics = new FleetMetrics({ policies: ctx.policies });
  const health = new Health({ intervalMs: ctx.config.interval * 1000 });
  let server: { port: number; close: () => Promise<void> };
  try {
    server = await startMetricsServer(port, metrics, health, { host: ctx.config.metrics.host });
  } catch (e) {
    // The fleet matters more than its dashboard (and a second replica on the same host must still
    // stand by for the lease): the service runs on, and says loudly what it lacks.
    ctx.log.error({ port, error: (e as Error).message }, 'metrics and health endpoints are off');
    return { onCycle: undefined, onPoll: undefined, leader: () => {}, close: async () => {} };
  }
  ctx.log.info({ host: ctx.config.metrics.host, port: server.port }, 'serving /metrics and /healthz');
  return {
    onCycle: (result: CycleResult | undefined, error: unknown, durationMs: number) => {
      metrics.observeCycle(result, error, durationMs, calls);
      health.observe(result, error);
    },
    leader: (replica: string, held: boolean, leaderAlive: boolean) => {
      metrics.observeLeader(replica, held);
      if (!held) health.observeStandby(leaderAlive);
    },
    onPoll: (report: PollReport) => metrics.observeEvents(report),
    close: () => server.close(),
  };
}
