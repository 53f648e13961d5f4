import { expect } from 'chai';
import fc from 'fast-check';
import { parseDesired } from '../../src/manifest/desired.js';
import { inputError } from '../support/expect.js';

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
    ['an object count', '{"tst-linux64": {"count": 4}}'],
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
      fc.property(fc.dictionary(fc.string({ minLength: 1 }), fc.nat()), (counts) => {
        expect(parseDesired(JSON.stringify(counts))).to.deep.equal(counts);
      }),
    );
  });

  it('property: one negative count anywhere rejects the whole document', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string({ minLength: 1 }), fc.nat()), fc.integer({ max: -1 }), (counts, negative) => {
        const doc = { ...counts, 'bad-pool': negative };
        expect(inputError(() => parseDesired(JSON.stringify(doc)))).to.include('"bad-pool"');
      }),
    );
  });
});
