import { expect } from 'chai';
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { InputError } from '../../../src/domain/errors.js';
import { historyJson, parseHistoryCsv, parseHistoryJson, regionOf } from '../../../src/fake-cloud/price-files.js';
import { PriceRecording, readPriceFile, readPriceRecording } from '../../../src/fake-cloud/price-recording.js';

const FIXTURES = new URL('../../fixtures/spot-prices/', import.meta.url).pathname;
const T = (iso: string) => Date.parse(iso);

function scratch(): string {
  return mkdtempSync(join(tmpdir(), 'fleet-prices-'));
}

function entry(fields: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    Timestamp: '2016-03-01T00:00:00.000Z',
    ProductDescription: 'Linux/UNIX',
    InstanceType: 'm3.large',
    SpotPrice: '0.0180',
    AvailabilityZone: 'us-east-1a',
    ...fields,
  };
}

function jsonError(entries: unknown[]): string {
  try {
    parseHistoryJson(JSON.stringify({ SpotPriceHistory: entries }), 'h.json');
  } catch (e) {
    expect(e).to.be.instanceOf(InputError);
    return (e as Error).message;
  }
  throw new Error('expected an InputError');
}

describe('recorded spot prices: describe-spot-price-history JSON', () => {
  it('reads each entry as one price change: region from the zone, " (Amazon VPC)" dropped, prices as numbers', () => {
    const { rows, window } = parseHistoryJson(readFileSync(join(FIXTURES, 'c5-2016.json'), 'utf8'), 'c5-2016.json');
    expect(window).to.equal(undefined);
    expect(rows).to.have.length(7);
    expect(rows[0]).to.deep.equal({
      region: 'us-east-1',
      az: 'us-east-1b',
      instanceType: 'c5.xlarge',
      productDescription: 'Linux/UNIX',
      price: 0.041,
      t: T('2016-03-01T03:00:00Z'),
    });
    expect(new Set(rows.map((r) => r.productDescription))).to.deep.equal(new Set(['Linux/UNIX', 'Windows']));
  });

  it('reads StartTime and EndTime as the recorded window when present', () => {
    const { window } = parseHistoryJson(
      JSON.stringify({ StartTime: '2026-01-01T00:00:00Z', EndTime: '2026-01-02T00:00:00Z', SpotPriceHistory: [entry()] }),
      'h.json',
    );
    expect(window).to.deep.equal({ from: T('2026-01-01T00:00:00Z'), to: T('2026-01-02T00:00:00Z') });
  });

  it('names the file, the entry and the field of malformed input in one line', () => {
    expect(() => parseHistoryJson('{"SpotPriceHistory": [', 'h.json')).to.throw(InputError, /^h\.json: not valid JSON/);
    expect(() => parseHistoryJson('{"Prices": []}', 'h.json')).to.throw(
      InputError,
      'h.json: expected describe-spot-price-history output, an object with a "SpotPriceHistory" list',
    );
    expect(jsonError([entry(), entry({ SpotPrice: 'cheap' })])).to.equal(
      'h.json: SpotPriceHistory[1]: SpotPrice "cheap" is not a positive number',
    );
    expect(jsonError([entry({ SpotPrice: '-1' })])).to.equal('h.json: SpotPriceHistory[0]: SpotPrice "-1" is not a positive number');
    expect(jsonError([entry({ Timestamp: 'yesterday' })])).to.equal(
      'h.json: SpotPriceHistory[0]: Timestamp "yesterday" is not an ISO 8601 time',
    );
    expect(jsonError([entry({ AvailabilityZone: 'us-east' })])).to.equal(
      'h.json: SpotPriceHistory[0]: AvailabilityZone "us-east" is not a zone name (like us-east-1a)',
    );
    expect(jsonError([entry({ InstanceType: undefined })])).to.equal(
      'h.json: SpotPriceHistory[0]: InstanceType is missing or not a string',
    );
    expect(jsonError([42])).to.equal('h.json: SpotPriceHistory[0]: expected an object');
    for (const message of [jsonError([entry({ SpotPrice: 'x' })]), jsonError([entry({ Timestamp: 3 })])])
      expect(message).not.to.include('\n');
  });

  it('knows the region of ordinary, GovCloud and local zones', () => {
    expect(regionOf('us-east-1a')).to.equal('us-east-1');
    expect(regionOf('us-gov-west-1b')).to.equal('us-gov-west-1');
    expect(regionOf('us-west-2-lax-1a')).to.equal('us-west-2');
    expect(regionOf('us-east-1')).to.equal(undefined);
  });
});

describe('recorded spot prices: CSV', () => {
  it('reads the columns by name, with "2023-12-01 02:00:00+00:00" timestamps and quoted fields', () => {
    const text =
      'AvailabilityZone,SpotPrice,Timestamp,InstanceType,ProductDescription\nus-east-1b,0.066,2023-12-01 01:00:00+00:00,c5a.xlarge,"Linux/UNIX (Amazon VPC)"\n\n';
    expect(parseHistoryCsv(text, 'p.csv').rows).to.deep.equal([
      {
        region: 'us-east-1',
        az: 'us-east-1b',
        instanceType: 'c5a.xlarge',
        productDescription: 'Linux/UNIX',
        price: 0.066,
        t: T('2023-12-01T01:00:00Z'),
      },
    ]);
  });

  it('names the file and line of malformed input', () => {
    const header = 'Timestamp,InstanceType,ProductDescription,SpotPrice,AvailabilityZone\n';
    expect(() => parseHistoryCsv('Timestamp,InstanceType,SpotPrice\n', 'p.csv')).to.throw(
      InputError,
      'p.csv:1: the header lacks ProductDescription, AvailabilityZone',
    );
    expect(() => parseHistoryCsv(`${header}2023-12-01 01:00:00+00:00,c5a.xlarge,Linux/UNIX,0.066\n`, 'p.csv')).to.throw(
      InputError,
      'p.csv:2: expected 5 fields, found 4',
    );
    expect(() =>
      parseHistoryCsv(
        `${header}2023-12-01 01:00:00+00:00,c5a.xlarge,Linux/UNIX,0.066,us-east-1b\n2023-12-01,c5a.xlarge,Linux/UNIX,n/a,us-east-1b\n`,
        'p.csv',
      ),
    ).to.throw(InputError, 'p.csv:3: SpotPrice "n/a" is not a positive number');
  });
});

describe('recorded spot prices: files, directories and the recording', () => {
  it('reads a gzipped file whatever its name, and CSV or JSON by content', () => {
    const dir = scratch();
    writeFileSync(join(dir, 'c5.xlarge-us-east-1a'), gzipSync(readFileSync(join(FIXTURES, 'c5-2016.json'))));
    writeFileSync(join(dir, 'prices.txt'), readFileSync(join(FIXTURES, 'c5a-2023.csv')));
    expect(readPriceFile(join(dir, 'c5.xlarge-us-east-1a')).rows).to.have.length(7);
    expect(readPriceFile(join(dir, 'prices.txt')).rows).to.have.length(4);
    writeFileSync(join(dir, 'broken.gz'), Buffer.from([0x1f, 0x8b, 1, 2, 3]));
    expect(() => readPriceFile(join(dir, 'broken.gz'))).to.throw(InputError, /broken\.gz: not a valid gzip file/);
  });

  it('keeps one ascending series per offer: newest-first input sorted, repeats dropped, the later row winning a tie', () => {
    const rows = parseHistoryJson(
      JSON.stringify({
        SpotPriceHistory: [
          entry({ Timestamp: '2016-03-01T03:00:00Z', SpotPrice: '0.02' }),
          entry({ Timestamp: '2016-03-01T02:00:00Z', SpotPrice: '0.02' }),
          entry({ Timestamp: '2016-03-01T01:00:00Z', SpotPrice: '0.03' }),
          entry({ Timestamp: '2016-03-01T01:00:00Z', SpotPrice: '0.025' }),
          entry({ Timestamp: '2016-03-01T00:00:00Z', SpotPrice: '0.02' }),
        ],
      }),
      'h.json',
    ).rows;
    const recording = new PriceRecording('h.json', rows);
    expect(recording.points('us-east-1', 'us-east-1a', 'm3.large', 'Linux/UNIX (Amazon VPC)')).to.deep.equal([
      { t: T('2016-03-01T00:00:00Z'), price: 0.02 },
      { t: T('2016-03-01T01:00:00Z'), price: 0.025 },
      { t: T('2016-03-01T02:00:00Z'), price: 0.02 },
    ]);
    expect([recording.from, recording.to]).to.deep.equal([T('2016-03-01T00:00:00Z'), T('2016-03-01T03:00:00Z')]);
    expect(recording.points('us-east-1', 'us-east-1b', 'm3.large', 'Linux/UNIX')).to.equal(undefined);
  });

  it('reads every price file of a directory, leaving out hidden files and notes', () => {
    const dir = scratch();
    writeFileSync(join(dir, 'c5-2016.json'), readFileSync(join(FIXTURES, 'c5-2016.json')));
    writeFileSync(join(dir, 'c5a-2023.csv.gz'), gzipSync(readFileSync(join(FIXTURES, 'c5a-2023.csv'))));
    writeFileSync(join(dir, 'README.md'), '# not prices');
    writeFileSync(join(dir, '.hidden.json'), 'not json at all');
    mkdirSync(join(dir, 'nested'));
    const recording = readPriceRecording(dir);
    expect(recording.offers().map((o) => `${o.az} ${o.instanceType} ${o.productDescription}`)).to.deep.equal([
      'us-east-1a c5.xlarge Linux/UNIX',
      'us-east-1a c5.xlarge Windows',
      'us-east-1b c5.xlarge Linux/UNIX',
      'us-east-1b c5a.xlarge Linux/UNIX',
      'us-east-1c c5a.xlarge Linux/UNIX',
    ]);
    expect(recording.zones('us-east-1')).to.deep.equal(['us-east-1a', 'us-east-1b', 'us-east-1c']);
    expect(new Date(recording.from).toISOString()).to.equal('2016-03-01T00:00:00.000Z');
    expect(new Date(recording.to).toISOString()).to.equal('2023-12-01T02:00:00.000Z');
  });

  it('refuses a missing path, a directory without price files, and a recording without prices', () => {
    expect(() => readPriceRecording('/nonexistent/prices')).to.throw(InputError, '--prices /nonexistent/prices: no such file or directory');
    const dir = scratch();
    writeFileSync(join(dir, 'NOTES.md'), 'nothing');
    expect(() => readPriceRecording(dir)).to.throw(InputError, /holds no \.json, \.csv or \.gz price files/);
    writeFileSync(join(dir, 'empty.json'), '{"SpotPriceHistory": []}');
    expect(() => readPriceRecording(dir)).to.throw(InputError, /no spot prices recorded/);
  });

  it('writes the describe-spot-price-history form (newest first, with its window) and reads it back unchanged', () => {
    const rows = parseHistoryCsv(readFileSync(join(FIXTURES, 'c5a-2023.csv'), 'utf8'), 'c5a-2023.csv').rows;
    const window = { from: T('2023-11-30T00:00:00Z'), to: T('2023-12-02T00:00:00Z') };
    const text = historyJson(rows, window);
    const doc = JSON.parse(text);
    expect(doc.SpotPriceHistory[0]).to.deep.equal({
      AvailabilityZone: 'us-east-1c',
      InstanceType: 'c5a.xlarge',
      ProductDescription: 'Linux/UNIX',
      SpotPrice: '0.071',
      Timestamp: '2023-12-01T02:00:00.000Z',
    });
    const back = parseHistoryJson(text, 'cache.json');
    expect(back.window).to.deep.equal(window);
    expect([...back.rows].sort((a, b) => a.t - b.t || a.az.localeCompare(b.az))).to.deep.equal(
      [...rows].sort((a, b) => a.t - b.t || a.az.localeCompare(b.az)),
    );
    const dir = scratch();
    writeFileSync(join(dir, 'cache.json'), text);
    const recording = readPriceRecording(join(dir, 'cache.json'));
    expect([recording.from, recording.to]).to.deep.equal([window.from, window.to]);
  });
});
