// Recorded spot price history, ready to replay: one ascending price series per offer (region,
// zone, instance type, product description), and the period the recording covers. Read from a
// file or a directory of files in either form of formats.ts, plain or gzipped.

import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { InputError } from '../domain/errors.js';
import { normaliseProductDescription } from '../domain/types.js';
import type { PricePoint } from './price-traces.js';
import { type ParsedFile, type RecordedRow, type RecordedWindow, parseHistoryCsv, parseHistoryJson } from './price-files.js';

export interface RecordedOffer {
  readonly region: string;
  readonly az: string;
  readonly instanceType: string;
  readonly productDescription: string;
}

export class PriceRecording {
  private readonly series = new Map<string, { readonly offer: RecordedOffer; readonly points: readonly PricePoint[] }>();
  private readonly zonesByRegion = new Map<string, readonly string[]>();
  /** epoch ms: the recorded period */
  readonly from: number;
  readonly to: number;

  /**
   * `rows` in any order. The period is `window` when given (what was asked of EC2), otherwise
   * from the first recorded row to the last.
   */
  constructor(
    readonly source: string,
    rows: readonly RecordedRow[],
    window?: RecordedWindow,
  ) {
    const grouped = new Map<string, { offer: RecordedOffer; rows: RecordedRow[] }>();
    let first = Number.POSITIVE_INFINITY;
    let last = Number.NEGATIVE_INFINITY;
    for (const r of rows) {
      first = Math.min(first, r.t);
      last = Math.max(last, r.t);
      const key = offerKey(r.region, r.az, r.instanceType, r.productDescription);
      let group = grouped.get(key);
      if (!group) {
        group = { offer: { region: r.region, az: r.az, instanceType: r.instanceType, productDescription: r.productDescription }, rows: [] };
        grouped.set(key, group);
      }
      group.rows.push(r);
    }
    for (const [key, { offer, rows: list }] of [...grouped].sort(([a], [b]) => a.localeCompare(b))) {
      // Stable sort: at equal times the row read later wins, as in a price trace.
      list.sort((a, b) => a.t - b.t);
      const points: PricePoint[] = [];
      for (const r of list) {
        const last = points.at(-1);
        if (last && last.t === r.t) points[points.length - 1] = { t: r.t, price: r.price };
        else if (last?.price !== r.price) points.push({ t: r.t, price: r.price });
      }
      this.series.set(key, { offer, points });
    }
    if (this.series.size === 0) throw new InputError(`${source}: no spot prices recorded`);
    this.from = window?.from ?? first;
    this.to = window?.to ?? last;
  }

  /** The offer's price changes, ascending, or undefined when the recording does not have it. */
  points(region: string, az: string, instanceType: string, productDescription: string): readonly PricePoint[] | undefined {
    return this.series.get(offerKey(region, az, instanceType, normaliseProductDescription(productDescription)))?.points;
  }

  /** The same recording over the same period, with only the offers `keep` accepts. */
  subset(keep: (offer: RecordedOffer) => boolean): PriceRecording {
    const rows: RecordedRow[] = [];
    for (const { offer, points } of this.series.values()) {
      if (keep(offer)) for (const p of points) rows.push({ ...offer, price: p.price, t: p.t });
    }
    return new PriceRecording(this.source, rows, { from: this.from, to: this.to });
  }

  offers(): RecordedOffer[] {
    return [...this.series.values()].map((s) => s.offer);
  }

  /** Zones of `region` with at least one recorded series, sorted. */
  zones(region: string): readonly string[] {
    let zones = this.zonesByRegion.get(region);
    if (!zones) {
      zones = [
        ...new Set(
          this.offers()
            .filter((o) => o.region === region)
            .map((o) => o.az),
        ),
      ].sort();
      this.zonesByRegion.set(region, zones);
    }
    return zones;
  }

  regions(): string[] {
    return [...new Set(this.offers().map((o) => o.region))].sort();
  }

  instanceTypes(region: string): string[] {
    return [
      ...new Set(
        this.offers()
          .filter((o) => o.region === region)
          .map((o) => o.instanceType),
      ),
    ].sort();
  }
}

function offerKey(region: string, az: string, instanceType: string, productDescription: string): string {
  return `${region}:${az}:${instanceType}:${productDescription}`;
}

/**
 * Read a recording from a file, or from every price file of a directory (not recursive; hidden
 * files and files with an extension other than .json, .csv and .gz are left out, so a README
 * beside the data is ignored; files without an extension are read, as `aws ... > file` writes).
 */
export function readPriceRecording(path: string): PriceRecording {
  let stats;
  try {
    stats = statSync(path);
  } catch {
    throw new InputError(`--prices ${path}: no such file or directory`);
  }
  const files = stats.isDirectory()
    ? readdirSync(path)
        .filter((name) => !name.startsWith('.') && /^[^.]+$|\.(json|csv|gz)$/i.test(name))
        .sort()
        .map((name) => join(path, name))
        .filter((file) => statSync(file).isFile())
    : [path];
  if (files.length === 0) throw new InputError(`--prices ${path}: the directory holds no .json, .csv or .gz price files`);
  const rows: RecordedRow[] = [];
  let window: RecordedWindow | undefined;
  let unbounded = false;
  for (const file of files) {
    const parsed = readPriceFile(file);
    for (const r of parsed.rows) rows.push(r);
    if (parsed.window)
      window = window ? { from: Math.min(window.from, parsed.window.from), to: Math.max(window.to, parsed.window.to) } : parsed.window;
    else if (parsed.rows.length > 0) unbounded = true;
  }
  // A window holds only when every file with prices states one; otherwise the prices themselves say.
  return new PriceRecording(path, rows, unbounded ? undefined : window);
}

/** One file, JSON or CSV, plain or gzipped, whatever its name says. */
export function readPriceFile(file: string): ParsedFile {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    throw new InputError(`${file}: cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      bytes = gunzipSync(bytes);
    } catch (e) {
      throw new InputError(`${file}: not a valid gzip file (${(e as Error).message})`);
    }
  }
  const text = bytes.toString('utf8').replace(/^\uFEFF/, '');
  const first = text.trimStart()[0];
  if (first === undefined) return { rows: [] };
  return first === '{' || first === '[' ? parseHistoryJson(text, file) : parseHistoryCsv(text, file);
}
