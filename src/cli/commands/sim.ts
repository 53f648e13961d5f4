import { writeFileSync } from 'node:fs';
import { checkOutputPath } from '../output-path.js';
import { OPTION_BOUNDS, parseIsoTime } from '../options.js';
import { awsCloud } from '../../cloud/aws/index.js';
import { guardCloud } from '../../cloud/guarded-cloud.js';
import { systemClock } from '../../domain/clock.js';
import { InputError } from '../../domain/errors.js';
import type { Lifecycle } from '../../domain/types.js';
import type { DesiredForm } from '../../sim/ci/desired.js';
import { type Exhaustion, runSimulation } from '../../sim/driver.js';
import type { WorkloadShape } from '../../sim/workload.js';
import { type MarketRule, marketRuleAt } from '../../fake-cloud/market.js';
import { accountHistory, defaultCachePath, parseAccountPrices } from '../../sim/recorded/account-history.js';
import { type PriceRecording, readPriceRecording } from '../../fake-cloud/price-recording.js';
import { replayWindow } from '../../sim/recorded/window.js';
import { summaryText } from '../../sim/summary.js';
import { renderReport } from '../../sim/report.js';
import { type Context, type GlobalOptions, loadContext } from '../context.js';

const DEFAULT_START = '2026-11-16T00:00:00Z';
const DEFAULT_HOURS = 24;

export interface SimOptions {
  /** default 24, or the recorded period with --prices */
  readonly hours?: number;
  readonly seed: number;
  /** default 2026-11-16T00:00:00Z, or the recording's start with --prices */
  readonly start?: string;
  readonly prices?: string;
  readonly days?: number;
  readonly pricesCache?: string;
  readonly marketRule?: MarketRule;
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
  readonly desiredForm?: DesiredForm;
  readonly workload?: WorkloadShape;
  /** commander's `--no-worker-agent` */
  readonly workerAgent?: boolean;
  readonly report?: string;
  readonly json?: boolean;
}

function share(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || n > 1)
    throw new InputError(`${flag}: expected a share between 0 and 1 (got ${JSON.stringify(value)})`);
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
  if (!match)
    throw new InputError(
      `--exhaust: expected lifecycle:type:zone[@fromHour-toHour], e.g. spot:*:us-east-1a@6-12 (got ${JSON.stringify(spec)})`,
    );
  const [, lifecycle, instanceType, az, from, to] = match;
  return {
    lifecycle: lifecycle as Lifecycle,
    instanceType: instanceType as string,
    az: az as string,
    ...(from !== undefined ? { fromHour: hourOf(from, spec) } : {}),
    ...(to !== undefined ? { toHour: hourOf(to, spec) } : {}),
  };
}

function hourOf(text: string, spec: string): number {
  const hour = Number(text);
  if (hour > OPTION_BOUNDS.hours.max)
    throw new InputError(`--exhaust: hour ${text} is past ${OPTION_BOUNDS.hours.max} (got ${JSON.stringify(spec)})`);
  return hour;
}

export async function simCommand(global: GlobalOptions, options: SimOptions): Promise<void> {
  // The summary is the output; the reconciler's own log lines only with --debug or --log-level.
  if (options.report !== undefined) checkOutputPath(options.report, '--report');
  const ctx = loadContext(global, { logLevel: options.logLevel });
  const givenStart = options.start === undefined ? undefined : parseIsoTime(options.start);
  if (options.start !== undefined && givenStart === undefined)
    throw new InputError(
      `--start: expected an existing ISO 8601 date or time with its offset, e.g. 2026-11-16T00:00:00Z (got ${JSON.stringify(options.start)})`,
    );
  if (options.regime !== 'modern' && options.regime !== 'volatile')
    throw new InputError(`--regime: expected modern or volatile (got ${JSON.stringify(options.regime)})`);
  if (options.pricesCache !== undefined && !options.prices?.startsWith('aws:'))
    throw new InputError('--prices-cache: only with --prices aws:REGION[,REGION...]');
  const recording =
    options.prices === undefined
      ? options.days !== undefined
        ? noPricesForDays()
        : undefined
      : await recordedPrices(options.prices, options, ctx);
  const { start, hours } = recording
    ? replayWindow(recording, givenStart, options.hours)
    : { start: givenStart ?? Date.parse(DEFAULT_START), hours: options.hours ?? DEFAULT_HOURS };
  const rule = options.marketRule ?? (recording ? marketRuleAt(start) : 'capacity');
  if (recording) noteMissingPrices(recording, ctx);
  const run = await runSimulation({
    config: ctx.config,
    policies: ctx.policies,
    seed: options.seed,
    start,
    hours,
    world: { interruptionRatePerHour: nonNegative(options.interruptions, '--interruptions') },
    market: {
      ...(recording ? { recorded: recording } : {}),
      rule,
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
    desiredForm: options.desiredForm ?? 'counts',
    workload: options.workload ?? 'day',
    workerAgent: options.workerAgent ?? true,
    log: ctx.log,
  });
  if (options.report) {
    try {
      writeFileSync(options.report, renderReport(run));
    } catch (e) {
      throw new InputError(`--report ${options.report}: cannot write (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
  }
  const replay = recording && {
    source: recording.source,
    from: new Date(recording.from).toISOString(),
    to: new Date(recording.to).toISOString(),
    offers: recording.offers().length,
  };
  if (options.json)
    process.stdout.write(`${JSON.stringify({ ...run.summary, market: { rule, ...(replay ? { replay } : {}) } }, null, 2)}\n`);
  else {
    if (replay)
      process.stdout.write(
        `Spot prices replayed from ${replay.source} (${replay.offers} offers recorded ${replay.from} → ${replay.to}); market rule: ${rule}.\n`,
      );
    process.stdout.write(`${summaryText(run.summary)}\n`);
  }
  if (options.report && !options.json) process.stdout.write(`Report written to ${options.report}\n`);
}

function noPricesForDays(): never {
  throw new InputError('--days: only with --prices aws:REGION[,REGION...]');
}

/** A file or directory of recorded history, or the account's own history (aws:REGION,...). */
async function recordedPrices(prices: string, options: SimOptions, ctx: Context): Promise<PriceRecording> {
  const spec = parseAccountPrices(prices, options.days);
  if (!spec) return readPriceRecording(prices);
  const cachePath = options.pricesCache ?? defaultCachePath(spec);
  // The real AWS adapter, rate limited and retried like every other call fleet makes.
  const cloud = guardCloud(awsCloud(), { clock: systemClock, random: Math.random });
  const { recording, fromCache } = await accountHistory({ spec, policies: ctx.policies, cloud, cachePath, now: systemClock.now() });
  process.stderr.write(
    fromCache
      ? `fleet sim: reusing ${cachePath} (written less than a day ago)\n`
      : `fleet sim: wrote the last ${spec.days} days of spot prices in ${spec.regions.join(', ')} to ${cachePath}\n`,
  );
  return recording;
}

/** Offers the pools would use that the recording does not price are not sold on spot: say so. */
function noteMissingPrices(recording: PriceRecording, ctx: Context): void {
  for (const region of ctx.config.regions) {
    const recorded = new Set(recording.instanceTypes(region));
    for (const p of ctx.policies) {
      if (!p.regions[region]) continue;
      const missing = p.instanceTypes.map((t) => t.type).filter((t) => !recorded.has(t));
      if (missing.length > 0)
        process.stderr.write(
          `fleet sim: no recorded spot prices for ${p.pool}'s ${missing.join(', ')} in ${region}: not sold on spot in this replay\n`,
        );
    }
  }
}
