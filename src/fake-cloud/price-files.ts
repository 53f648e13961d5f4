// The two forms recorded spot price history comes in: the JSON that `aws ec2
// describe-spot-price-history` prints, and a CSV with the same fields. Both are parsed into plain
// rows; any malformed entry is an InputError naming the file, the entry or line, and what is wrong.

import { InputError } from '../domain/errors.js';
import { normaliseProductDescription } from '../domain/types.js';

/** One recorded price change. */
export interface RecordedRow {
  readonly region: string;
  readonly az: string;
  readonly instanceType: string;
  /** normalised: " (Amazon VPC)" dropped */
  readonly productDescription: string;
  /** dollars per instance-hour */
  readonly price: number;
  /** epoch ms */
  readonly t: number;
}

/** The period a recording was asked for (StartTime/EndTime), when the file says so. */
export interface RecordedWindow {
  readonly from: number;
  readonly to: number;
}

export interface ParsedFile {
  readonly rows: RecordedRow[];
  readonly window?: RecordedWindow;
}

export const CSV_COLUMNS = ['Timestamp', 'InstanceType', 'ProductDescription', 'SpotPrice', 'AvailabilityZone'] as const;
type Column = (typeof CSV_COLUMNS)[number];

/** `{"SpotPriceHistory": [...]}`, optionally with `StartTime` and `EndTime` (as fleet's cache writes them). */
export function parseHistoryJson(text: string, file: string): ParsedFile {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new InputError(`${file}: not valid JSON (${(e as Error).message})`);
  }
  if (typeof doc !== 'object' || doc === null || !Array.isArray((doc as { SpotPriceHistory?: unknown }).SpotPriceHistory)) {
    throw new InputError(`${file}: expected describe-spot-price-history output, an object with a "SpotPriceHistory" list`);
  }
  const { SpotPriceHistory: entries, StartTime, EndTime } = doc as { SpotPriceHistory: unknown[]; StartTime?: unknown; EndTime?: unknown };
  const reader = new RowReader();
  const rows = entries.map((entry, n) => {
    const where = () => `${file}: SpotPriceHistory[${n}]`;
    if (typeof entry !== 'object' || entry === null) throw new InputError(`${where()}: expected an object`);
    return reader.row((name) => (entry as Record<string, unknown>)[name], where);
  });
  if (StartTime === undefined && EndTime === undefined) return { rows };
  const from = time(StartTime, () => `${file}: StartTime`);
  const to = time(EndTime, () => `${file}: EndTime`);
  if (to < from) throw new InputError(`${file}: EndTime is before StartTime`);
  return { rows, window: { from, to } };
}

/** `Timestamp,InstanceType,ProductDescription,SpotPrice,AvailabilityZone` (any order, header first). */
export function parseHistoryCsv(text: string, file: string): ParsedFile {
  const lines = text.split(/\r?\n/);
  const headerAt = lines.findIndex((l) => l.trim() !== '');
  if (headerAt < 0) return { rows: [] };
  const header = splitCsvLine(lines[headerAt] as string).map((h) => h.trim());
  const missing = CSV_COLUMNS.filter((c) => !header.includes(c));
  if (missing.length > 0)
    throw new InputError(`${file}:${headerAt + 1}: the header lacks ${missing.join(', ')} (expected ${CSV_COLUMNS.join(',')})`);
  const index = Object.fromEntries(CSV_COLUMNS.map((c) => [c, header.indexOf(c)])) as Record<Column, number>;
  const rows: RecordedRow[] = [];
  const reader = new RowReader();
  for (let n = headerAt + 1; n < lines.length; n++) {
    const line = lines[n] as string;
    if (line.trim() === '') continue;
    const where = () => `${file}:${n + 1}`;
    const cells = splitCsvLine(line);
    if (cells.length !== header.length) throw new InputError(`${where()}: expected ${header.length} fields, found ${cells.length}`);
    rows.push(reader.row((name) => cells[index[name]], where));
  }
  return { rows };
}

/** Memoised per file: zone and product names repeat on every row of large recordings. */
class RowReader {
  private readonly regions = new Map<string, string | undefined>();
  private readonly products = new Map<string, string>();

  row(field: (name: Column) => unknown, where: () => string): RecordedRow {
    const text = (name: Column): string => {
      const value = field(name);
      if (typeof value !== 'string' || value.trim() === '') throw new InputError(`${where()}: ${name} is missing or not a string`);
      return value.trim();
    };
    const az = text('AvailabilityZone');
    let region = this.regions.get(az);
    if (region === undefined) {
      region = regionOf(az);
      if (!region) throw new InputError(`${where()}: AvailabilityZone ${JSON.stringify(az)} is not a zone name (like us-east-1a)`);
      this.regions.set(az, region);
    }
    const product = text('ProductDescription');
    let productDescription = this.products.get(product);
    if (productDescription === undefined) {
      productDescription = normaliseProductDescription(product);
      this.products.set(product, productDescription);
    }
    const rawPrice = field('SpotPrice');
    const price =
      typeof rawPrice === 'number' ? rawPrice : typeof rawPrice === 'string' && rawPrice.trim() !== '' ? Number(rawPrice) : Number.NaN;
    if (!Number.isFinite(price) || price <= 0)
      throw new InputError(`${where()}: SpotPrice ${JSON.stringify(rawPrice)} is not a positive number`);
    return {
      region,
      az,
      instanceType: text('InstanceType'),
      productDescription,
      price,
      t: time(field('Timestamp'), () => `${where()}: Timestamp`),
    };
  }
}

function time(value: unknown, where: () => string): number {
  let t = typeof value === 'string' ? Date.parse(value) : Number.NaN;
  // The CSV form writes "2023-12-30 21:17:02+00:00"; ISO 8601 wants the T.
  if (Number.isNaN(t) && typeof value === 'string') t = Date.parse(value.trim().replace(/^(\d{4}-\d{2}-\d{2}) /, '$1T'));
  if (!Number.isFinite(t)) throw new InputError(`${where()} ${JSON.stringify(value)} is not an ISO 8601 time`);
  return t;
}

/** The region a zone belongs to: us-east-1a → us-east-1, us-west-2-lax-1a → us-west-2. */
export function regionOf(az: string): string | undefined {
  const match = /^([a-z]{2}-(?:gov-)?[a-z]+-\d+)[a-z0-9-]*[a-z]$/.exec(az);
  return match?.[1];
}

/** Fields separated by commas; a field may be double-quoted (with "" for a quote inside). */
function splitCsvLine(line: string): string[] {
  const cells: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i] as string;
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"' && cell.trim() === '') {
      quoted = true;
      cell = '';
    } else if (c === ',') {
      cells.push(cell);
      cell = '';
    } else cell += c;
  }
  cells.push(cell);
  return cells;
}

/**
 * The describe-spot-price-history JSON form, newest first as EC2 answers, with the window that
 * was asked for as StartTime and EndTime.
 */
export function historyJson(rows: readonly RecordedRow[], window: RecordedWindow): string {
  const entries = [...rows]
    .sort((a, b) => b.t - a.t)
    .map((r) => ({
      AvailabilityZone: r.az,
      InstanceType: r.instanceType,
      ProductDescription: r.productDescription,
      SpotPrice: String(r.price),
      Timestamp: new Date(r.t).toISOString(),
    }));
  const doc = { StartTime: new Date(window.from).toISOString(), EndTime: new Date(window.to).toISOString(), SpotPriceHistory: entries };
  return `${JSON.stringify(doc, null, 1)}\n`;
}
