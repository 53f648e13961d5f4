import { expect } from 'chai';
import fc from 'fast-check';
import {
  MAX_NAMES_PER_TAG,
  allocateNames,
  decodeNames,
  encodeNames,
  formatName,
  isValidNameTemplate,
  nameAtLaunchIndex,
  slotOf,
} from '../../../src/policy/names.js';

describe('names: templates', () => {
  describe('isValidNameTemplate', () => {
    for (const template of ['bld-linux64-spot-{nnn}', '{n}', 'w{nnnn}.pool', 'try-{nn}-win']) {
      it(`accepts ${template}`, () => expect(isValidNameTemplate(template)).to.equal(true));
    }
    for (const template of [
      'bld-linux64',
      '',
      'bld-{nnn}-{nn}',
      'bld-{NNN}',
      'bld-{}',
      'bld-{nnn',
      'bld-nnn}',
      'bld-{pool}-{nnn}',
      'bld-{nnn}}',
      '{{nnn}}',
      'bld-{x}',
    ]) {
      it(`rejects ${JSON.stringify(template)}`, () => expect(isValidNameTemplate(template)).to.equal(false));
    }
  });

  describe('formatName', () => {
    it('zero-pads the slot to the width of the placeholder', () => {
      expect(formatName('bld-linux64-spot-{nnn}', 1)).to.equal('bld-linux64-spot-001');
      expect(formatName('bld-linux64-spot-{nnn}', 42)).to.equal('bld-linux64-spot-042');
      expect(formatName('w-{n}', 7)).to.equal('w-7');
      expect(formatName('w-{nnnnn}.x', 123)).to.equal('w-00123.x');
    });

    it('grows past the width instead of truncating', () => {
      expect(formatName('bld-{nnn}', 1234)).to.equal('bld-1234');
    });

    it('keeps a suffix and characters that mean something to String.replace', () => {
      expect(formatName('$&-{nn}-$1', 3)).to.equal('$&-03-$1');
    });
  });

  describe('slotOf', () => {
    it('reads the slot number back', () => {
      expect(slotOf('bld-linux64-spot-{nnn}', 'bld-linux64-spot-007')).to.equal(7);
      expect(slotOf('bld-{nnn}', 'bld-1234')).to.equal(1234);
      expect(slotOf('w{nn}.pool', 'w12.pool')).to.equal(12);
    });

    it('is undefined for names of another template', () => {
      expect(slotOf('bld-{nnn}', 'tst-001')).to.equal(undefined);
      expect(slotOf('bld-{nnn}', 'bld-')).to.equal(undefined);
      expect(slotOf('bld-{nnn}', 'bld-00a')).to.equal(undefined);
      expect(slotOf('w{nn}.pool', 'w12.other')).to.equal(undefined);
      expect(slotOf('no-placeholder', 'no-placeholder')).to.equal(undefined);
    });

    it('property: slotOf inverts formatName', () => {
      fc.assert(
        fc.property(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 1_000_000 }), (width, slot) => {
          const template = `pool-{${'n'.repeat(width)}}-x`;
          expect(slotOf(template, formatName(template, slot))).to.equal(slot);
        }),
      );
    });
  });
});

describe('names: allocateNames', () => {
  const template = 'bld-linux64-spot-{nnn}';
  const name = (slot: number) => formatName(template, slot);

  it('starts at slot 1', () => {
    expect(allocateNames(template, new Set(), 3)).to.deep.equal(['bld-linux64-spot-001', 'bld-linux64-spot-002', 'bld-linux64-spot-003']);
  });

  it('reuses the lowest free slots first', () => {
    const taken = new Set([name(1), name(2), name(4), name(7)]);
    expect(allocateNames(template, taken, 4)).to.deep.equal([name(3), name(5), name(6), name(8)]);
  });

  it('ignores taken names of other pools or templates', () => {
    const taken = new Set(['tst-linux64-spot-001', 'bld-linux64-spot-1', name(2)]);
    expect(allocateNames(template, taken, 2)).to.deep.equal([name(1), name(3)]);
  });

  it('takes only names written exactly as the template writes them: other paddings leave the slot free', () => {
    const taken = new Set(['bld-linux64-spot-01', 'bld-linux64-spot-0002', 'bld-linux64-spot-03x', 'bld-linux64-spot-1000', name(4)]);
    expect(allocateNames(template, taken, 4)).to.deep.equal([name(1), name(2), name(3), name(5)]);
    const wide = new Set(['bld-linux64-spot-01000', ...Array.from({ length: 999 }, (_, n) => name(n + 1))]);
    expect(allocateNames(template, wide, 1)).to.deep.equal(['bld-linux64-spot-1000']);
  });

  it('returns nothing for a count of zero', () => {
    expect(allocateNames(template, new Set([name(1)]), 0)).to.deep.equal([]);
  });

  it('goes past the padding width', () => {
    const taken = new Set(Array.from({ length: 999 }, (_, n) => name(n + 1)));
    expect(allocateNames('bld-linux64-spot-{nnn}', taken, 2)).to.deep.equal(['bld-linux64-spot-1000', 'bld-linux64-spot-1001']);
  });

  it('property: never a taken name, exactly count distinct names, the lowest free slots in order', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('bld-linux64-spot-{nnn}', 'w-{n}', 'try-{nn}.win'),
        fc.uniqueArray(fc.integer({ min: 1, max: 60 }), { maxLength: 50 }),
        fc.array(fc.string({ maxLength: 8 }), { maxLength: 5 }),
        fc.nat(40),
        (tpl, takenSlots, foreign, count) => {
          const taken = new Set([...takenSlots.map((s) => formatName(tpl, s)), ...foreign.map((f) => `other:${f}`)]);
          const names = allocateNames(tpl, taken, count);
          expect(names).to.have.length(count);
          expect(new Set(names).size).to.equal(count);
          for (const n of names) expect(taken.has(n), n).to.equal(false);
          // the lowest free slots, from the slot numbers rather than the names
          const free = Array.from({ length: 60 + count }, (_, n) => n + 1).filter((slot) => !takenSlots.includes(slot));
          const expected = free.slice(0, count);
          expect(names.map((n) => slotOf(tpl, n))).to.deep.equal(expected);
        },
      ),
    );
  });

  it('property: every returned name is below any slot left free (no gaps skipped)', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 1, max: 40 }), { maxLength: 40 }),
        fc.integer({ min: 1, max: 20 }),
        (takenSlots, count) => {
          const taken = new Set(takenSlots.map(name));
          const slots = allocateNames(template, taken, count).map((n) => slotOf(template, n)!);
          const highest = Math.max(...slots);
          for (let slot = 1; slot < highest; slot++) {
            expect(taken.has(name(slot)) || slots.includes(slot), `slot ${slot} skipped`).to.equal(true);
          }
        },
      ),
    );
  });
});

describe('names: the fleet:names tag of a batched launch', () => {
  const T = 'bld-linux64-spot-{nnn}';

  it('decodes the template and runs into names in launch-index order', () => {
    expect(decodeNames(`${T} 3-5,9`)).to.deep.equal([
      'bld-linux64-spot-003',
      'bld-linux64-spot-004',
      'bld-linux64-spot-005',
      'bld-linux64-spot-009',
    ]);
    expect(decodeNames('w-{n} 12')).to.deep.equal(['w-12']);
    // the order given is the launch-index order, even when it is not ascending
    expect(decodeNames(`${T} 9,3-4`)).to.deep.equal(['bld-linux64-spot-009', 'bld-linux64-spot-003', 'bld-linux64-spot-004']);
    // a template may itself contain spaces: the slots follow the last one
    expect(decodeNames('ci worker {nn} 1-2')).to.deep.equal(['ci worker 01', 'ci worker 02']);
  });

  it('picks the name at a launch index without expanding the runs', () => {
    expect(nameAtLaunchIndex(`${T} 3-5,9`, 0)).to.equal('bld-linux64-spot-003');
    expect(nameAtLaunchIndex(`${T} 3-5,9`, 2)).to.equal('bld-linux64-spot-005');
    expect(nameAtLaunchIndex(`${T} 3-5,9`, 3)).to.equal('bld-linux64-spot-009');
    expect(nameAtLaunchIndex(`${T} 3-5,9`, 4)).to.equal(undefined);
  });

  for (const bad of [
    '',
    T,
    `${T} `,
    'bld-linux64 1-3',
    `${T} 0`,
    `${T} 5-3`,
    `${T} 3-5,4`,
    `${T} 3,3`,
    `${T} 1,,2`,
    `${T} -1`,
    `${T} 1-2-3`,
    `${T} 0x10`,
    `${T} 1-${MAX_NAMES_PER_TAG + 1}`,
  ]) {
    it(`refuses ${JSON.stringify(bad)} with an error naming the value`, () => {
      expect(() => decodeNames(bad)).to.throw(RangeError, /^names ".*":/);
      expect(() => nameAtLaunchIndex(bad, 0)).to.throw(RangeError);
    });
  }

  it('encodes consecutive ascending slots as runs, keeping the launch-index order', () => {
    expect(encodeNames(T, [3, 4, 5, 9])).to.equal(`${T} 3-5,9`);
    expect(encodeNames(T, [1])).to.equal(`${T} 1`);
    expect(encodeNames(T, [7, 8])).to.equal(`${T} 7-8`);
    expect(encodeNames(T, [9, 3, 4, 5])).to.equal(`${T} 9,3-5`);
    expect(encodeNames(T, [5, 4, 3])).to.equal(`${T} 5,4,3`);
  });

  it('refuses to encode what no worker could decode', () => {
    expect(() => encodeNames('bld-linux64', [1])).to.throw(RangeError);
    expect(() => encodeNames(T, [])).to.throw(RangeError);
    expect(() => encodeNames(T, [0])).to.throw(RangeError);
    expect(() => encodeNames(T, [1.5])).to.throw(RangeError);
    expect(() => encodeNames(T, [2, 2])).to.throw(RangeError);
  });

  const templateArb = fc.constantFrom(T, 'w-{n}', 'tst {nnnn}.x', '$&-{nn}');
  const slotsArb = fc.uniqueArray(fc.integer({ min: 1, max: 3000 }), { minLength: 1, maxLength: 60 });
  // batches are mostly runs of consecutive slots: bias the generator toward them
  const runsArb = fc
    .array(fc.tuple(fc.integer({ min: 1, max: 500 }), fc.integer({ min: 1, max: 8 })), { minLength: 1, maxLength: 8 })
    .map((runs) => [...new Set(runs.flatMap(([first, size]) => Array.from({ length: size }, (_, k) => first + k)))]);

  it('property: decoding an encoding gives back every name, in launch-index order', () => {
    fc.assert(
      fc.property(templateArb, fc.oneof(slotsArb, runsArb), (template, slots) => {
        const value = encodeNames(template, slots);
        const names = slots.map((s) => formatName(template, s));
        expect(decodeNames(value)).to.deep.equal(names);
        names.forEach((n, index) => expect(nameAtLaunchIndex(value, index)).to.equal(n));
        expect(nameAtLaunchIndex(value, names.length)).to.equal(undefined);
      }),
    );
  });

  it('property: the encoding is the most compact ranges form (no two neighbouring runs could be one)', () => {
    fc.assert(
      fc.property(templateArb, fc.oneof(slotsArb, runsArb), (template, slots) => {
        const parts = encodeNames(template, slots)
          .slice(template.length + 1)
          .split(',');
        const runs = parts.map((p) => p.split('-').map(Number) as [number, number?]);
        for (let k = 1; k < runs.length; k++) {
          const before = runs[k - 1]!;
          const after = runs[k]!;
          expect(after[0], parts.join(',')).not.to.equal((before[1] ?? before[0]) + 1);
        }
        expect(parts.length).to.be.at.most(slots.length);
      }),
    );
  });
});
