import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { classify } from '../cloud/errors.js';
import type { CallCounter } from '../cloud/guarded.js';
import type { LaunchOutcome } from '../domain/outcome.js';
import type { PoolPolicy } from '../domain/policy.js';
import type { Snapshot } from '../domain/snapshot.js';
import { LIFECYCLES } from '../domain/types.js';
import { FallbackTime, InterruptionTally } from './cycle-tallies.js';
import { EC2_EVENT_KINDS } from '../domain/events.js';
import type { PollReport } from './event-inbox.js';
import type { InputSource } from '../shared/inputs.js';
import { poolCosts, savingsRatio } from './pool-costs.js';
import type { CycleResult } from './reconciler.js';
import { rolloutPhases } from './rollout-phases.js';

const FAILURE_KINDS = ['capacity', 'retryable', 'rejected'] as const;

/**
 * Prometheus metrics of the reconcile service, fed once per cycle. Each instance owns its registry
 * (never prom-client's global one), so several services or tests in one process do not collide.
 */
export class FleetMetrics {
  readonly registry = new Registry();
  private readonly now: () => number;
  private readonly cycles: Counter<'result'>;
  private readonly duration: Histogram;
  private readonly actions: Counter<'kind' | 'lifecycle' | 'result'>;
  private readonly launchFailures: Counter<'kind'>;
  private readonly poolDesired: Gauge<'pool'>;
  private readonly poolInstances: Gauge<'pool' | 'lifecycle'>;
  private readonly poolUnmet: Gauge<'pool'>;
  private readonly poolPending: Gauge<'pool'>;
  private readonly apiCalls: Counter<'region' | 'action'>;
  private readonly apiRetries: Counter<'region' | 'action'>;
  private readonly inputStale: Gauge<'input'>;
  private readonly lastSuccess: Gauge;
  private readonly blocked: Gauge;
  private readonly costPerHour: Gauge<'pool' | 'lifecycle'>;
  private readonly onDemandEquivalent: Gauge<'pool'>;
  private readonly savings: Gauge<'pool'>;
  private readonly fallbackSeconds: Counter<'pool'>;
  private readonly interruptions: Counter<'region' | 'az' | 'instance_type'>;
  private readonly leader: Gauge<'replica'>;
  private readonly demandPending: Gauge<'pool'>;
  private readonly demandRunning: Gauge<'pool'>;
  private readonly demandOldestWait: Gauge<'pool'>;
  private readonly demandDesired: Gauge<'pool'>;
  private readonly policies: readonly PoolPolicy[];
  private readonly fallbackTime = new FallbackTime();
  private readonly interruptionTally = new InterruptionTally();
  private readonly events: Counter<'kind' | 'result'>;
  private readonly rolloutPhase: Gauge<'pool' | 'region' | 'ami' | 'phase'>;
  private readonly guardDrains: Counter<'pool' | 'region'>;
  /** the CallCounter's values at the last observation: it is cumulative, Prometheus wants increments */
  private readonly seenCalls = new Map<string, number>();
  private readonly seenRetries = new Map<string, number>();

  /** `policies` price the pools and say when their fallback starts; without them, cost figures are absent. */
  constructor({ now = Date.now, policies = [] }: { now?: () => number; policies?: readonly PoolPolicy[] } = {}) {
    this.now = now;
    this.policies = policies;
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    this.cycles = new Counter({ name: 'fleet_cycles_total', help: 'Reconcile cycles, by result', labelNames: ['result'], registers });
    this.duration = new Histogram({
      name: 'fleet_cycle_duration_seconds',
      help: 'Duration of a reconcile cycle',
      buckets: [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300],
      registers,
    });
    this.actions = new Counter({
      name: 'fleet_actions_total',
      help: 'Launches, terminations and requests to leave (retire) carried out, by pool, cause and result',
      labelNames: ['kind', 'pool', 'cause', 'lifecycle', 'result'],
      registers,
    });
    this.launchFailures = new Counter({
      name: 'fleet_launch_failures_total',
      help: 'Failed launches, by kind of failure',
      labelNames: ['kind'],
      registers,
    });
    this.poolDesired = new Gauge({
      name: 'fleet_pool_desired',
      help: 'Desired size of the pool (clamped to its min and max)',
      labelNames: ['pool'],
      registers,
    });
    this.poolInstances = new Gauge({
      name: 'fleet_pool_instances',
      help: 'Live instances and pending launches of the pool at the start of the last cycle, less those it terminated',
      labelNames: ['pool', 'lifecycle'],
      registers,
    });
    this.demandPending = new Gauge({
      name: 'fleet_demand_pending_jobs',
      help: "Jobs waiting for a worker, as the pool's source of demand said last",
      labelNames: ['pool'],
      registers,
    });
    this.demandRunning = new Gauge({
      name: 'fleet_demand_running_jobs',
      help: "Jobs running on a worker, as the pool's source of demand said last",
      labelNames: ['pool'],
      registers,
    });
    this.demandOldestWait = new Gauge({
      name: 'fleet_demand_oldest_wait_seconds',
      help: 'How long the oldest pending job has waited, when the source says',
      labelNames: ['pool'],
      registers,
    });
    this.demandDesired = new Gauge({
      name: 'fleet_demand_desired',
      help: 'The desired size worked out from the queue (before scale-down timing)',
      labelNames: ['pool'],
      registers,
    });
    this.poolUnmet = new Gauge({
      name: 'fleet_pool_unmet',
      help: 'Capacity the last plan could not place',
      labelNames: ['pool'],
      registers,
    });
    this.poolPending = new Gauge({
      name: 'fleet_pool_pending',
      help: 'Pending instances and launches not yet listed by EC2',
      labelNames: ['pool'],
      registers,
    });
    this.apiCalls = new Counter({
      name: 'fleet_api_calls_total',
      help: 'EC2 API calls sent, retries included',
      labelNames: ['region', 'action'],
      registers,
    });
    this.apiRetries = new Counter({
      name: 'fleet_api_retries_total',
      help: 'EC2 API calls retried after throttling or a transient error',
      labelNames: ['region', 'action'],
      registers,
    });
    this.inputStale = new Gauge({
      name: 'fleet_input_stale',
      help: '1 when the input is the last good copy or missing',
      labelNames: ['input'],
      registers,
    });
    this.lastSuccess = new Gauge({ name: 'fleet_last_success_timestamp_seconds', help: 'When the last successful cycle ended', registers });
    this.blocked = new Gauge({
      name: 'fleet_blocked',
      help: '1 when the last plan was blocked (no usable inputs): nothing changes',
      registers,
    });
    this.costPerHour = new Gauge({
      name: 'fleet_cost_per_hour_dollars',
      help: 'Dollars per hour of the live instances at the last cycle; absent when a price is unknown',
      labelNames: ['pool', 'lifecycle'],
      registers,
    });
    this.onDemandEquivalent = new Gauge({
      name: 'fleet_on_demand_equivalent_per_hour_dollars',
      help: 'Dollars per hour the same live instances would cost on demand; absent when a price is unknown',
      labelNames: ['pool'],
      registers,
    });
    this.savings = new Gauge({
      name: 'fleet_savings_ratio',
      help: '1 - cost / on-demand cost of the live instances; absent when a price is unknown or the pool is empty',
      labelNames: ['pool'],
      registers,
    });
    this.fallbackSeconds = new Counter({
      name: 'fleet_fallback_seconds_total',
      help: 'Seconds the pool spent with on-demand fallback active (shortfall older than spot.fallbackAfter), counted from cycle to cycle',
      labelNames: ['pool'],
      registers,
    });
    this.interruptions = new Counter({
      name: 'fleet_interruptions_total',
      help: 'Spot interruptions by offer, each instance once (those already listed at the first cycle are not counted)',
      labelNames: ['region', 'az', 'instance_type'],
      registers,
    });
    this.leader = new Gauge({
      name: 'fleet_leader',
      help: '1 while this replica holds the leader lease, 0 while it stands by',
      labelNames: ['replica'],
      registers,
    });
    this.events = new Counter({
      name: 'fleet_events_total',
      help: 'EC2 event messages taken from the events queue, by kind and result',
      labelNames: ['kind', 'result'],
      registers,
    });
    this.rolloutPhase = new Gauge({
      name: 'fleet_rollout_phase',
      help: "1 for each image's place in its pool's rollout per region at the last cycle: canary or baking (a new image on trial), current (the image every other launch uses), drained",
      labelNames: ['pool', 'region', 'ami', 'phase'],
      registers,
    });
    this.guardDrains = new Counter({
      name: 'fleet_guard_drains_total',
      help: 'Images the launch guard drained, by pool and region',
      labelNames: ['pool', 'region'],
      registers,
    });

    // Zero series from the start, so that rate() and alerts see the first increment.
    for (const result of ['ok', 'failed', 'dry_run']) this.cycles.labels(result).inc(0);
    for (const kind of FAILURE_KINDS) this.launchFailures.labels(kind).inc(0);
    // Per pool, the commonest cause of each kind; other causes' series appear with their first action.
    for (const policy of policies) {
      for (const [kind, cause] of [
        ['launch', 'scale-up'],
        ['terminate', 'scale-down'],
      ] as const) {
        for (const lifecycle of LIFECYCLES)
          for (const result of ['ok', 'failed']) this.actions.labels(kind, policy.pool, cause, lifecycle, result).inc(0);
      }
    }
    for (const policy of policies) this.fallbackSeconds.labels(policy.pool).inc(0);
    for (const policy of policies) for (const region of Object.keys(policy.regions)) this.guardDrains.labels(policy.pool, region).inc(0);
    for (const kind of EC2_EVENT_KINDS) this.events.labels(kind, 'handled').inc(0);
    for (const result of ['malformed', 'foreign']) this.events.labels('unknown', result).inc(0);
  }

  /** Whether this replica holds the leader lease (asked before every cycle). */
  observeLeader(replica: string, held: boolean): void {
    this.leader.labels(replica).set(held ? 1 : 0);
  }

  /** Record what one poll of the events queue dealt with. */
  observeEvents(report: PollReport): void {
    for (const t of report.tally) this.events.labels(t.kind, t.result).inc(t.count);
  }

  /** Record one cycle: its result (undefined when it threw), its duration and the API calls so far. */
  observeCycle(result: CycleResult | undefined, error: unknown, durationMs: number, calls: CallCounter): void {
    this.duration.observe(durationMs / 1000);
    this.observeCalls(calls);
    // Recorded in the state store even when the cycle stopped later: they happened.
    for (const trip of result?.guardDrains ?? []) this.guardDrains.labels(trip.pool, trip.region).inc();
    if (result === undefined || error !== undefined || result.plan === undefined || result.observation === undefined) {
      // The gauges keep the last cycle's picture: a failed cycle has no new one.
      this.cycles.labels('failed').inc();
      return;
    }
    this.cycles.labels(result.dryRun ? 'dry_run' : 'ok').inc();
    this.lastSuccess.set(this.now() / 1000);
    this.blocked.set(result.plan.blocked ? 1 : 0);
    for (const input of ['desired', 'manifest'] as const)
      this.inputStale.labels(input).set(stale(result.observation.inputs[input]) ? 1 : 0);

    // Pools are set afresh, so a pool that is gone (or a blocked plan) leaves no stale series.
    for (const gauge of [
      this.poolDesired,
      this.poolInstances,
      this.poolUnmet,
      this.poolPending,
      this.demandPending,
      this.demandRunning,
      this.demandOldestWait,
      this.demandDesired,
    ])
      gauge.reset();
    for (const p of result.plan.pools) {
      if (p.demand) {
        this.demandPending.labels(p.pool).set(p.demand.pending);
        this.demandRunning.labels(p.pool).set(p.demand.running);
        if (p.demand.oldestPendingSeconds !== undefined) this.demandOldestWait.labels(p.pool).set(p.demand.oldestPendingSeconds);
        this.demandDesired.labels(p.pool).set(p.demand.desired);
      }
      this.poolDesired.labels(p.pool).set(p.desired);
      this.poolInstances.labels(p.pool, 'spot').set(p.spot);
      this.poolInstances.labels(p.pool, 'on-demand').set(p.onDemand);
      this.poolUnmet.labels(p.pool).set(p.unmet);
      this.poolPending.labels(p.pool).set(p.pending);
    }
    this.rolloutPhase.reset();
    for (const s of rolloutPhases(result.plan, result.observation.snapshot))
      this.rolloutPhase.labels(s.pool, s.region, s.ami, s.phase).set(1);
    this.observeSnapshot(result.observation.snapshot);

    for (const outcome of result.outcomes) {
      for (const l of outcome.launches) {
        if (notAttempted(l)) continue;
        this.actions.labels('launch', l.action.pool, l.action.cause, l.action.lifecycle, l.failure ? 'failed' : 'ok').inc();
        if (l.failure) this.launchFailures.labels(l.failure.kind).inc();
      }
      for (const t of outcome.terminations) {
        this.actions
          .labels('terminate', t.action.pool, t.action.cause, t.action.lifecycle, t.terminated && !t.failure ? 'ok' : 'failed')
          .inc();
      }
      for (const r of outcome.retirements ?? []) {
        this.actions.labels('retire', r.action.pool, r.action.cause, r.action.lifecycle, r.asked && !r.failure ? 'ok' : 'failed').inc();
      }
    }
  }

  /** What the cycle saw, whatever it planned: cost, fallback time, interruptions. */
  private observeSnapshot(snapshot: Snapshot): void {
    for (const gauge of [this.costPerHour, this.onDemandEquivalent, this.savings]) gauge.reset();
    for (const cost of poolCosts(snapshot, this.policies)) {
      for (const lifecycle of LIFECYCLES) {
        const perHour = cost.perHour[lifecycle];
        if (perHour !== undefined) this.costPerHour.labels(cost.pool, lifecycle).set(perHour);
      }
      if (cost.onDemandEquivalent !== undefined) this.onDemandEquivalent.labels(cost.pool).set(cost.onDemandEquivalent);
      const ratio = savingsRatio(cost);
      if (ratio !== undefined) this.savings.labels(cost.pool).set(ratio);
    }
    for (const [pool, seconds] of this.fallbackTime.observe(snapshot, this.policies)) this.fallbackSeconds.labels(pool).inc(seconds);
    for (const i of this.interruptionTally.observe(snapshot.instances)) this.interruptions.labels(i.region, i.az, i.instanceType).inc();
  }

  private observeCalls(calls: CallCounter): void {
    track(calls.calls, this.seenCalls, this.apiCalls);
    track(calls.retries, this.seenRetries, this.apiRetries);
  }

  metrics(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

/** Add to `counter` what `current` (keys "region action") gained since `seen`. */
function track(current: ReadonlyMap<string, number>, seen: Map<string, number>, counter: Counter<'region' | 'action'>): void {
  for (const [key, value] of current) {
    const before = seen.get(key) ?? 0;
    // A CallCounter that was reset starts again from zero: all of its value is new.
    const delta = value >= before ? value - before : value;
    seen.set(key, value);
    if (delta === 0) continue;
    const space = key.indexOf(' ');
    counter.labels(key.slice(0, space), key.slice(space + 1)).inc(delta);
  }
  for (const key of [...seen.keys()]) if (!current.has(key)) seen.delete(key);
}

function stale(source: InputSource): boolean {
  return source === 'last-good' || source === 'none';
}

/**
 * Launches left unsent after their offer refused capacity: no call was made and the same cycle
 * re-plans them, so they are neither actions nor failures.
 */
function notAttempted(l: LaunchOutcome): boolean {
  return l.failure?.unsent ?? false;
}

export interface HealthReport {
  readonly healthy: boolean;
  readonly body: {
    /**
     * ok; starting (no cycle has ended yet); standby (another replica holds the leader lease);
     * leaderless (standing by, but no replica was seen leading for a lease TTL);
     * failing (the last cycle failed); stale (nothing has succeeded for too long: a stuck loop)
     */
    readonly status: 'ok' | 'starting' | 'standby' | 'leaderless' | 'failing' | 'stale';
    readonly lastSuccess: string | null;
    readonly lastError: { readonly at: string; readonly message: string } | null;
  };
}

/**
 * Whether the service is doing its job: healthy while the last cycle succeeded no more than three
 * intervals ago, or, just after start, while no cycle has failed yet. Three intervals leave room
 * for a slow cycle without hiding a loop that is stuck. A standby replica that keeps checking the
 * lease is doing its job too.
 */
export class Health {
  private readonly now: () => number;
  private readonly startedAt: number;
  private readonly allowedMs: number;
  private last: { readonly kind: 'ok' | 'failed' | 'standby'; readonly at: number } | undefined;
  private lastSuccess: number | undefined;
  private lastError: { at: number; message: string } | undefined;
  private leaderSeenAt: number | undefined;

  constructor({ intervalMs, now = Date.now }: { intervalMs: number; now?: () => number }) {
    this.now = now;
    this.startedAt = now();
    // Three intervals, and never less than half a minute: a short interval must not make a busy
    // host's slow cycle look like a stuck loop.
    this.allowedMs = Math.max(3 * intervalMs, 30_000);
  }

  observe(result: CycleResult | undefined, error: unknown): void {
    const at = this.now();
    if (result !== undefined && error === undefined) {
      this.last = { kind: 'ok', at };
      this.lastSuccess = at;
      return;
    }
    const e = classify(error);
    // Code and first line only: what the cloud answered, never the request that carried credentials.
    this.lastError = { at, message: e.code === 'Unknown' || e.code === 'Error' ? e.message : `${e.code}: ${e.message}` };
    this.last = { kind: 'failed', at };
  }

  /**
   * A cycle skipped: this replica does not hold the lease. `leaderAlive`: another replica was seen
   * leading within a lease TTL (the same three intervals); a standby that sees none is unhealthy.
   */
  observeStandby(leaderAlive = true): void {
    this.last = { kind: 'standby', at: this.now() };
    if (leaderAlive) this.leaderSeenAt = this.last.at;
  }

  report(): HealthReport {
    const now = this.now();
    const recent = (at: number) => now - at <= this.allowedMs;
    let status: HealthReport['body']['status'];
    if (this.last === undefined) status = now - this.startedAt < this.allowedMs ? 'starting' : 'stale';
    else if (this.last.kind === 'failed') status = 'failing';
    else if (!recent(this.last.at)) status = 'stale';
    else if (this.last.kind === 'ok') status = 'ok';
    else status = recent(this.leaderSeenAt ?? this.startedAt) ? 'standby' : 'leaderless';
    return {
      healthy: status === 'ok' || status === 'starting' || status === 'standby',
      body: {
        status,
        lastSuccess: this.lastSuccess === undefined ? null : new Date(this.lastSuccess).toISOString(),
        lastError: this.lastError ? { at: new Date(this.lastError.at).toISOString(), message: this.lastError.message } : null,
      },
    };
  }
}

export interface MetricsServer {
  /** the port actually listened on (port 0 asks the system for a free one) */
  readonly port: number;
  readonly address: string;
  close(): Promise<void>;
}

export interface MetricsServerOptions {
  /** the address to listen on: loopback unless the scraper is elsewhere (metrics.host) */
  readonly host?: string;
  /** open connections at most; the oldest idle one is closed to make room for a new one */
  readonly maxConnections?: number;
  /** a connection that sends nothing for this long is closed */
  readonly idleTimeoutMs?: number;
}

/**
 * Limits of the metrics server: scrapes and probes are small and quick, so a client that holds a
 * connection open without asking anything is dropped within seconds, and no number of them can use
 * up the process's file descriptors (which the lease and the cloud calls need).
 */
export const METRICS_LIMITS = {
  maxConnections: 64,
  headersTimeoutMs: 5_000,
  requestTimeoutMs: 10_000,
  keepAliveTimeoutMs: 5_000,
  idleSocketMs: 10_000,
  checkIntervalMs: 1_000,
} as const;

const ALLOW = 'GET, HEAD';

/** Serve GET (and HEAD) /metrics and /healthz on `host`; resolves once listening. */
export function startMetricsServer(
  port: number,
  metrics: FleetMetrics,
  health: Health,
  options: MetricsServerOptions = {},
): Promise<MetricsServer> {
  const host = options.host ?? '127.0.0.1';
  const server: Server = createServer({ connectionsCheckingInterval: METRICS_LIMITS.checkIntervalMs }, (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const known = path === '/metrics' || path === '/healthz';
    const send = (status: number, headers: Record<string, string>, body: string) => {
      res.writeHead(status, headers);
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    if (!known) send(404, { 'Content-Type': 'text/plain' }, 'not found\n');
    else if (req.method !== 'GET' && req.method !== 'HEAD')
      send(405, { 'Content-Type': 'text/plain', Allow: ALLOW }, 'method not allowed\n');
    else if (path === '/metrics') {
      metrics.metrics().then(
        (text) => send(200, { 'Content-Type': metrics.contentType }, text),
        (e: unknown) => send(500, { 'Content-Type': 'text/plain' }, `${String(e)}\n`),
      );
    } else {
      const { healthy, body } = health.report();
      send(healthy ? 200 : 503, { 'Content-Type': 'application/json' }, `${JSON.stringify(body)}\n`);
    }
  });
  limitConnections(server, options.maxConnections ?? METRICS_LIMITS.maxConnections, options.idleTimeoutMs ?? METRICS_LIMITS.idleSocketMs);
  return new Promise((resolve, reject) => {
    const fail = (e: NodeJS.ErrnoException) => {
      reject(
        new Error(
          e.code === 'EADDRINUSE'
            ? `metrics port ${port} is already in use`
            : `cannot listen on metrics ${host}:${port}: ${e.code ?? e.message}`,
        ),
      );
    };
    server.once('error', fail);
    server.listen(port, host, () => {
      server.off('error', fail);
      resolve({
        port: (server.address() as AddressInfo).port,
        address: (server.address() as AddressInfo).address,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            // A scraper's keep-alive connection must not hold the service open after SIGTERM.
            server.closeAllConnections();
          }),
      });
    });
  });
}

/**
 * Short timeouts and a cap on open connections. At the cap the kernel's next connection would be
 * refused, so one slot is always kept free by closing the oldest connection with no request in
 * flight: idle clients cannot lock out the health probe.
 */
function limitConnections(server: Server, max: number, idleMs: number): void {
  server.headersTimeout = METRICS_LIMITS.headersTimeoutMs;
  server.requestTimeout = METRICS_LIMITS.requestTimeoutMs;
  server.keepAliveTimeout = METRICS_LIMITS.keepAliveTimeoutMs;
  server.setTimeout(idleMs, (socket) => socket.destroy());
  server.maxConnections = max;
  const open = new Set<Socket>();
  const idle = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    open.add(socket);
    idle.add(socket);
    socket.once('close', () => {
      open.delete(socket);
      idle.delete(socket);
    });
    while (open.size >= max && idle.size > 1) {
      const oldest = idle.values().next().value as Socket;
      open.delete(oldest);
      idle.delete(oldest);
      oldest.destroy();
    }
  });
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    idle.delete(req.socket);
    res.once('finish', () => {
      if (!req.socket.destroyed) idle.add(req.socket);
    });
  });
}
