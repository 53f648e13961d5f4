// `fleet sim --prices aws:REGION,... --days N`: the account's own spot price history of the last N
// days, for the instance types and operating systems of the configured pools, read through the
// Cloud port and kept in a cache file (describe-spot-price-history JSON) that later runs reuse
// for a day.

import { spotPriceHistory } from '../../cloud/pages.js';
import { existsSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { InputError } from '../../domain/errors.js';
import type { PoolPolicy } from '../../domain/policy.js';
import { normaliseProductDescription } from '../../domain/types.js';
import type { Cloud } from '../../cloud/port.js';
import { SIM_REGIONS } from '../../fake-cloud/catalog.js';
import { type RecordedRow, historyJson } from '../../fake-cloud/price-files.js';
import { PriceRecording, readPriceRecording } from '../../fake-cloud/price-recording.js';

const DAY_MS = 24 * 3600_000;
/** DescribeSpotPriceHistory reaches back 90 days. */
export const MAX_HISTORY_DAYS = 90;

export interface AccountPricesSpec {
  readonly regions: readonly string[];
  readonly days: number;
}

/** `aws:us-east-1,us-west-2` with `--days N`; undefined when `spec` is a path. */
export function parseAccountPrices(spec: string, days: number | undefined): AccountPricesSpec | undefined {
  if (!spec.startsWith('aws:')) {
    if (days !== undefined) throw new InputError('--days: only with --prices aws:REGION[,REGION...]');
    return undefined;
  }
  const regions = spec
    .slice('aws:'.length)
    .split(',')
    .map((r) => r.trim())
    .filter(Boolean);
  if (regions.length === 0) throw new InputError(`--prices ${spec}: expected aws:REGION[,REGION...], e.g. aws:us-east-1`);
  for (const region of regions) {
    if (!SIM_REGIONS[region]) {
      throw new InputError(`--prices ${spec}: the simulated cloud has no region ${region} (it has ${Object.keys(SIM_REGIONS).join(', ')})`);
    }
  }
  if (days === undefined)
    throw new InputError(`--prices ${spec}: needs --days N, how many days of history to read (1 to ${MAX_HISTORY_DAYS})`);
  if (!Number.isInteger(days) || days < 1 || days > MAX_HISTORY_DAYS) {
    throw new InputError(
      `--days: EC2 keeps ${MAX_HISTORY_DAYS} days of spot price history; expected a whole number from 1 to ${MAX_HISTORY_DAYS} (got ${days})`,
    );
  }
  return { regions: [...new Set(regions)], days };
}

export function defaultCachePath(spec: AccountPricesSpec): string {
  return `.fleet-prices-${spec.regions.join('+')}-${spec.days}d.json`;
}

export interface AccountHistoryOptions {
  readonly spec: AccountPricesSpec;
  readonly policies: readonly PoolPolicy[];
  /** rate limited and retried: guardCloud's */
  readonly cloud: Cloud;
  readonly cachePath: string;
  readonly now: number;
  /** a cache younger than this is reused [a day] */
  readonly maxAgeMs?: number;
}

export interface AccountHistory {
  readonly recording: PriceRecording;
  readonly fromCache: boolean;
}

/** The cached recording when it is fresh enough, otherwise the account's history, written to the cache. */
export async function accountHistory(options: AccountHistoryOptions): Promise<AccountHistory> {
  const { spec, cachePath, now } = options;
  if (existsSync(cachePath) && now - statSync(cachePath).mtimeMs < (options.maxAgeMs ?? DAY_MS)) {
    return { recording: readPriceRecording(cachePath), fromCache: true };
  }
  const window = { from: now - spec.days * DAY_MS, to: now };
  const rows: RecordedRow[] = [];
  for (const region of spec.regions) {
    const compute = options.cloud.compute(region);
    for (const [productDescription, instanceTypes] of typesByProduct(options.policies)) {
      const prices = await spotPriceHistory(compute, { instanceTypes, productDescription, since: window.from, until: window.to });
      for (const p of prices)
        rows.push({
          region,
          az: p.az,
          instanceType: p.instanceType,
          productDescription: p.productDescription,
          price: p.price,
          t: p.timestamp,
        });
    }
  }
  if (rows.length === 0) {
    const types = [...typesByProduct(options.policies).values()].flat().join(', ');
    throw new InputError(
      `--prices aws:${spec.regions.join(',')}: EC2 returned no spot prices for ${types} over the last ${spec.days} days`,
    );
  }
  // Written whole, then renamed: an interrupted run never leaves half a cache behind.
  const partial = `${cachePath}.partial`;
  writeFileSync(partial, historyJson(rows, window));
  renameSync(partial, cachePath);
  return { recording: new PriceRecording(cachePath, rows, window), fromCache: false };
}

/** The pools' instance types per (normalised) product description. */
function typesByProduct(policies: readonly PoolPolicy[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const p of policies) {
    const product = normaliseProductDescription(p.productDescription);
    const types = out.get(product) ?? [];
    for (const { type } of p.instanceTypes) if (!types.includes(type)) types.push(type);
    out.set(product, types);
  }
  return out;
}
