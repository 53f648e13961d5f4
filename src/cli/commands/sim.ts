import { writeFileSync } from 'node:fs';
import { InputError } from '../../domain/errors.js';
import type { Lifecycle } from '../../domain/types.js';
import { type Exhaustion, runSimulation } from '../../sim/driver.js';
import { summaryText } from '../../sim/summary.js';
import { renderReport } from '../../sim/report.js';
import { type GlobalOptions, loadContext } from '../context.js';

export interface SimOptions {
  readonly hours: number;
  readonly seed: number;
  readonly start: string;
  readonly regime: string;
  readonly throttle: string;
  readonly serverErrors: string;
  readonly visibilityDelay: string;
  readonly crunches: string;
  readonly capacity: string;
  readonly interruptions: string;
  readonly logLevel: string;
  readonly exhaust?: readonly string[];
  readonly pricing: boolean;
  readonly badImage?: number;
  readonly events?: boolean;
  readonly report?: string;
  readonly json?: boolean;
}

function share(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || n > 1) throw new InputError(`${flag}: expected a share between 0 and 1 (got ${JSON.stringify(value)})`);
  return n;
}

function nonNegative(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new InputError(`${flag}: expected a number ≥ 0 (got ${JSON.stringify(value)})`);
  return n;
}

/** lifecycle:type:zone[@fromHour-toHour] */
export function parseExhaustion(spec: string): Exhaustion {
  const match = /^(spot|on-demand):([^:@]+):([^:@]+)(?:@(\d+(?:\.\d+)?)-(\d+(?:\.\d+)?))?$/.exec(spec);
  if (!match) throw new InputError(`--exhaust: expected lifecycle:type:zone[@fromHour-toHour], e.g. spot:*:us-east-1a@6-12 (got ${JSON.stringify(spec)})`);
  const [, lifecycle, instanceType, az, from, to] = match;
  return {
    lifecycle: lifecycle as Lifecycle,
    instanceType: instanceType as string,
    az: az as string,
    ...(from !== undefined ? { fromHour: Number(from) } : {}),
    ...(to !== undefined ? { toHour: Number(to) } : {}),
  };
}

export async function simCommand(global: GlobalOptions, options: SimOptions): Promise<void> {
  // The summary is the output; the reconciler's own log lines only with --debug or --log-level.
  const ctx = loadContext(global, { logLevel: options.logLevel });
  const start = Date.parse(options.start);
  if (!Number.isFinite(start)) throw new InputError(`--start: expected an ISO 8601 time (got ${JSON.stringify(options.start)})`);
  if (options.regime !== 'modern' && options.regime !== 'volatile') throw new InputError(`--regime: expected modern or volatile (got ${JSON.stringify(options.regime)})`);
  const run = await runSimulation({
    config: ctx.config,
    policies: ctx.policies,
    seed: options.seed,
    start,
    hours: options.hours,
    world: { interruptionRatePerHour: nonNegative(options.interruptions, '--interruptions') },
    market: {
      regime: options.regime,
      crunchesPerDay: nonNegative(options.crunches, '--crunches'),
      spotCapacity: Math.max(1, Math.round(nonNegative(options.capacity, '--capacity'))),
    },
    faults: {
      throttleRate: share(options.throttle, '--throttle'),
      serverErrorRate: share(options.serverErrors, '--server-errors'),
      visibilityDelayMs: nonNegative(options.visibilityDelay, '--visibility-delay') * 1000,
      pricingUnavailable: !options.pricing,
    },
    exhaust: (options.exhaust ?? []).map(parseExhaustion),
    ...(options.badImage !== undefined ? { badImageAfterHour: options.badImage } : {}),
    events: options.events ?? false,
    log: ctx.log,
  });
  if (options.report) {
    writeFileSync(options.report, renderReport(run));
  }
  process.stdout.write(`${options.json ? JSON.stringify(run.summary, null, 2) : summaryText(run.summary)}\n`);
  if (options.report && !options.json) process.stdout.write(`Report written to ${options.report}\n`);
}
