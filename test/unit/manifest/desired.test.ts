import { expect } from 'chai';
import fc from 'fast-check';
import { parseDesired, parseDesiredDocument } from '../../../src/manifest/desired.js';
import { desiredFromDemand } from '../../../src/policy/demand.js';
import { inputError } from '../../support/expect.js';

describe('desired counts: parseDesired', () => {
  it('reads the SPEC example', () => {
    expect(parseDesired('{"bld-linux64": 12, "tst-linux64": 40}')).to.deep.equal({ 'bld-linux64': 12, 'tst-linux64': 40 });
  });

  it('keeps a key named __proto__ as a key, never as the prototype', () => {
    const counts = parseDesired('{"__proto__": 3, "bld-linux64": 1}');
    expect(Object.getPrototypeOf(counts)).to.equal(Object.prototype);
    expect(Object.keys(counts)).to.deep.equal(['__proto__', 'bld-linux64']);
    expect(Object.getOwnPropertyDescriptor(counts, '__proto__')?.value).to.equal(3);
  });

  it('accepts zero and an empty object', () => {
    expect(parseDesired('{"bld-linux64": 0}')).to.deep.equal({ 'bld-linux64': 0 });
    expect(parseDesired('{}')).to.deep.equal({});
  });

  it('accepts an integer written with a fraction of zero', () => {
    expect(parseDesired('{"bld-linux64": 3.0}')).to.deep.equal({ 'bld-linux64': 3 });
  });

  it('does not clamp: that needs the policy (SPEC §4)', () => {
    expect(parseDesired('{"bld-linux64": 100000}')).to.deep.equal({ 'bld-linux64': 100000 });
  });

  const bad: [string, string][] = [
    ['a negative count', '{"bld-linux64": 2, "tst-linux64": -1}'],
    ['a fractional count', '{"tst-linux64": 1.5}'],
    ['a count as a string', '{"tst-linux64": "4"}'],
    ['a null count', '{"tst-linux64": null}'],
    ['a boolean count', '{"tst-linux64": true}'],
    ['an overflowing count', '{"tst-linux64": 1e400}'],
  ];
  for (const [what, text] of bad) {
    it(`rejects ${what}, naming the pool`, () => {
      const message = inputError(() => parseDesired(text));
      expect(message).to.match(/^desired counts: "tst-linux64" must be a non-negative integer/);
    });
  }

  it('rejects JSON that is not an object', () => {
    for (const text of ['[]', '[12, 40]', 'null', '12', '"bld-linux64"']) {
      expect(inputError(() => parseDesired(text))).to.match(/^desired counts: expected an object/);
    }
  });

  it('rejects text that is not JSON with a one-line message', () => {
    const message = inputError(() => parseDesired('<Error>\n  <Code>AccessDenied</Code>\n</Error>'));
    expect(message).to.match(/^desired counts: not JSON/);
    expect(message).to.not.include('\n');
  });

  it('rejects empty text', () => {
    expect(inputError(() => parseDesired(''))).to.match(/^desired counts: not JSON/);
  });

  it('property: any object of non-negative integers comes back as it went in', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string({ minLength: 1 }), fc.nat({ max: 1_000_000 })), (counts) => {
        expect(parseDesired(JSON.stringify(counts))).to.deep.equal(counts);
      }),
    );
  });

  it('property: one negative count anywhere rejects the whole document', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string({ minLength: 1 }), fc.nat({ max: 1_000_000 })), fc.integer({ max: -1 }), (counts, negative) => {
        const doc = { ...counts, 'bad-pool': negative };
        expect(inputError(() => parseDesired(JSON.stringify(doc)))).to.include('"bad-pool"');
      }),
    );
  });
});

describe('desired document: the object form and unknown pools (SPEC §4)', () => {
  const pools = new Set(['bld-linux64', 'tst-linux64']);

  it('refuses a pool no policy defines, naming it: a typo never scales a real pool to its min', () => {
    const message = inputError(() => parseDesiredDocument('{"bld-linux46": 4}', { pools }));
    expect(message).to.match(/^desired counts: no policy defines pool "bld-linux46"/);
    expect(message).to.include('ignoredPools');
  });

  it('accepts and drops a pool that ignoredPools lists', () => {
    const doc = parseDesiredDocument('{"bld-linux64": 2, "legacy-pool": 9}', { pools, ignored: new Set(['legacy-pool']) });
    expect(doc).to.deep.equal({ 'bld-linux64': { desired: 2 } });
  });

  it('reads the object form with every field', () => {
    const text = JSON.stringify({
      'bld-linux64': {
        desired: 12,
        pending: 5,
        running: 30,
        oldestPendingSeconds: 240,
        busy: ['bld-linux64-spot-003', 'bld-linux64-spot-003', 'bld-linux64-spot-007'],
      },
      'tst-linux64': 4,
    });
    expect(parseDesiredDocument(text, { pools })).to.deep.equal({
      'bld-linux64': {
        desired: 12,
        pending: 5,
        running: 30,
        oldestPendingSeconds: 240,
        busy: ['bld-linux64-spot-003', 'bld-linux64-spot-007'],
      },
      'tst-linux64': { desired: 4 },
    });
  });

  it('desired is used as given; without it, pending + running; with neither, zero (the pool then gets its min)', () => {
    expect(desiredFromDemand({ desired: 3, pending: 5, running: 30 })).to.equal(3);
    expect(desiredFromDemand({ pending: 5, running: 30 })).to.equal(35);
    expect(desiredFromDemand({ running: 2 })).to.equal(2);
    expect(desiredFromDemand({ busy: ['x'] })).to.equal(0);
    expect(parseDesired('{"bld-linux64": {"pending": 2, "running": 3}}')).to.deep.equal({ 'bld-linux64': 5 });
  });

  const bad: [string, unknown, RegExp][] = [
    ['an unknown key', { 'bld-linux64': { desired: 1, pendng: 2 } }, /"bld-linux64": unknown key "pendng"/],
    ['a negative pending', { 'bld-linux64': { pending: -1 } }, /"bld-linux64"\.pending must be a non-negative integer/],
    ['a fractional running', { 'bld-linux64': { running: 1.5 } }, /"bld-linux64"\.running must be/],
    ['a desired as a string', { 'bld-linux64': { desired: '4' } }, /"bld-linux64"\.desired must be/],
    ['a null oldestPendingSeconds', { 'bld-linux64': { oldestPendingSeconds: null } }, /"bld-linux64"\.oldestPendingSeconds must be/],
    [
      'an oldest wait of years',
      { 'bld-linux64': { oldestPendingSeconds: 10 ** 12 } },
      /"bld-linux64"\.oldestPendingSeconds must be .* up to/,
    ],
    ['a count above the bound', { 'bld-linux64': 10 ** 9 }, /"bld-linux64" must be a non-negative integer up to 1000000/],
    ['busy that is not a list', { 'bld-linux64': { busy: 'bld-linux64-spot-001' } }, /"bld-linux64"\.busy must be a list/],
    ['busy holding a number', { 'bld-linux64': { busy: ['a', 3] } }, /"bld-linux64"\.busy must hold slot names/],
    ['busy holding an empty name', { 'bld-linux64': { busy: [''] } }, /"bld-linux64"\.busy must hold slot names/],
    ['a list as a pool value', { 'bld-linux64': [3] }, /"bld-linux64" must be a non-negative integer/],
  ];
  for (const [what, doc, pattern] of bad) {
    it(`refuses the whole document for ${what}, in one line naming pool and field`, () => {
      const message = inputError(() => parseDesiredDocument(JSON.stringify({ 'tst-linux64': 3, ...(doc as object) }), { pools }));
      expect(message).to.match(pattern);
      expect(message).to.not.include('\n');
    });
  }

  it('refuses a document too large to be a desired document', () => {
    const huge = JSON.stringify({ 'bld-linux64': { busy: Array.from({ length: 300_000 }, (_, i) => `bld-linux64-spot-${i}`) } });
    expect(inputError(() => parseDesiredDocument(huge, { pools }))).to.match(/larger than|more than/);
  });
});
