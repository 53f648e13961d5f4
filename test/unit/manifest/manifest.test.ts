import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { DEFAULT_MANIFEST_OPTIONS, parseManifest } from '../../../src/manifest/manifest.js';
import { inputError } from '../../support/expect.js';

/**
 * A hand-written amis.json in the shape Mozilla's publisher (build-cloud-tools aws_publish_amis.py)
 * dumped it: every boto Image attribute it listed, nulls where boto had None, block device names
 * as a list, tags as strings, moz-created a string of epoch seconds. The publisher wrote it on one
 * line; one entry per line here, which JSON does not distinguish.
 */
const MOZILLA_FIXTURE = readFileSync(new URL('../../fixtures/mozilla-amis.json', import.meta.url), 'utf8');

const native = (images: unknown[]) => JSON.stringify({ images });
const image = (over: Record<string, unknown> = {}) => ({
  id: 'ami-0abc',
  pool: 'bld-linux64',
  region: 'us-east-1',
  created: '2026-11-20T04:00:00Z',
  name: 'bld-linux64-2026-11-20',
  ...over,
});

/** One entry of Mozilla's amis.json. */
const moz = (id: string, over: Record<string, unknown> = {}) => ({
  id,
  region: 'us-east-1',
  name: `golden-${id}`,
  state: 'available',
  tags: { 'moz-type': 'bld-linux64', 'moz-created': '1763611200' },
  ...over,
});
const mozilla = (...entries: ReturnType<typeof moz>[]) => JSON.stringify(Object.fromEntries(entries.map((e) => [e.id, e])));

describe('manifest: parseManifest', () => {
  it('keeps tag keys such as __proto__ as plain keys (tags as an array)', () => {
    const doc = {
      'ami-0a1': {
        id: 'ami-0a1',
        region: 'us-east-1',
        name: 'x',
        state: 'available',
        tags: [
          { Key: '__proto__', Value: 'x' },
          { Key: 'moz-type', Value: 'bld-linux64' },
          { Key: 'moz-created', Value: '1763697600' },
        ],
      },
    };
    expect(parseManifest(JSON.stringify(doc)).map((i) => i.pool)).to.deep.equal(['bld-linux64']);
  });

  describe('native form', () => {
    it('reads every image', () => {
      const images = parseManifest(
        native([
          image(),
          image({ id: 'ami-0def', pool: 'tst-linux64', region: 'us-west-2', created: '2026-11-19T04:00:00Z', name: 'tst' }),
        ]),
      );
      expect(images).to.deep.equal([
        { id: 'ami-0abc', pool: 'bld-linux64', region: 'us-east-1', created: Date.UTC(2026, 10, 20, 4), name: 'bld-linux64-2026-11-20' },
        { id: 'ami-0def', pool: 'tst-linux64', region: 'us-west-2', created: Date.UTC(2026, 10, 19, 4), name: 'tst' },
      ]);
    });

    it('name is optional', () => {
      const { name: _name, ...noName } = image();
      expect(parseManifest(native([noName]))[0]!.name).to.equal('');
    });

    it('takes an ISO time with an offset', () => {
      expect(parseManifest(native([image({ created: '2026-11-20T06:00:00+02:00' })]))[0]!.created).to.equal(Date.UTC(2026, 10, 20, 4));
    });

    it('does not mistake an images key of the wrong type for the native form', () => {
      expect(inputError(() => parseManifest(JSON.stringify({ images: {} })))).to.include('no usable image');
    });

    const bad: [string, Record<string, unknown>, RegExp][] = [
      ['a missing id', { id: undefined }, /images\[1\]\.id/],
      ['an id that is not an AMI id', { id: 'i-0abc' }, /images\[1\]\.id: "i-0abc" is not an AMI id/],
      ['a missing pool', { pool: undefined }, /images\[1\]\.pool/],
      ['an empty pool', { pool: '' }, /images\[1\]\.pool/],
      ['a bad region', { region: 'us-east-1a' }, /images\[1\]\.region/],
      ['a missing created', { created: undefined }, /images\[1\]\.created/],
      ['a created that is not a time', { created: 'yesterday' }, /images\[1\]\.created/],
      ['a created in epoch seconds', { created: 1763611200 }, /images\[1\]\.created/],
      ['a created that Date.parse would take as 2001', { created: '1' }, /images\[1\]\.created/],
      ['a created in a non-ISO format', { created: 'Nov 20 2026' }, /images\[1\]\.created/],
      ['a numeric name', { name: 5 }, /images\[1\]\.name/],
    ];
    for (const [what, over, pattern] of bad) {
      it(`rejects the whole manifest for ${what}, naming the entry`, () => {
        const message = inputError(() => parseManifest(native([image({ id: 'ami-0good' }), image(over)])));
        expect(message).to.match(pattern);
        expect(message).to.not.include('\n');
      });
    }

    it('rejects an entry that is not an object', () => {
      expect(inputError(() => parseManifest(native([image(), 'ami-0abc'])))).to.match(/images\[1\]: expected an object/);
    });

    it('rejects an empty image list', () => {
      expect(inputError(() => parseManifest(native([])))).to.include('no usable image');
    });

    it('rejects the same AMI listed twice in a region', () => {
      const message = inputError(() => parseManifest(native([image(), image({ name: 'again' })])));
      expect(message).to.include('ami-0abc').and.include('twice');
    });

    it('accepts the same AMI id in two regions', () => {
      expect(parseManifest(native([image(), image({ region: 'us-west-2' })]))).to.have.length(2);
    });
  });

  describe('Mozilla amis.json form', () => {
    it('reads amis.json exactly as Mozilla published it: pool images of every region, base images left out', () => {
      const images = parseManifest(MOZILLA_FIXTURE);
      expect(images).to.deep.equal([
        {
          id: 'ami-0b7e5a3d',
          pool: 'bld-linux64',
          region: 'us-east-1',
          created: 1447905720_000,
          name: 'spot-bld-linux64-2015-11-19-04-02',
        },
        {
          id: 'ami-4c21f826',
          pool: 'bld-linux64',
          region: 'us-east-1',
          created: 1447992060_000,
          name: 'spot-bld-linux64-2015-11-20-04-01',
        },
        {
          id: 'ami-9f3c6afe',
          pool: 'bld-linux64',
          region: 'us-west-2',
          created: 1447992060_000,
          name: 'spot-bld-linux64-2015-11-20-04-01',
        },
        {
          id: 'ami-71d85a1b',
          pool: 'tst-linux64',
          region: 'us-east-1',
          created: 1447990500_000,
          name: 'spot-tst-linux64-2015-11-20-03-35',
        },
        { id: 'ami-2a8c4e40', pool: 'y-2008', region: 'us-east-1', created: 1447850000_000, name: 'y-2008-ebs-2015-11-18' },
      ]);
      // the base image (no moz-type tag) is not a pool image
      expect(images.map((i) => i.id)).not.to.include('ami-5b3ac931');
    });

    it('reads the pool and creation time from the tags (moz-created as a string)', () => {
      expect(parseManifest(mozilla(moz('ami-0aaa')))).to.deep.equal([
        { id: 'ami-0aaa', pool: 'bld-linux64', region: 'us-east-1', created: 1763611200 * 1000, name: 'golden-ami-0aaa' },
      ]);
    });

    it('takes moz-created as a number', () => {
      const images = parseManifest(mozilla(moz('ami-0aaa', { tags: { 'moz-type': 'bld-linux64', 'moz-created': 1763611200 } })));
      expect(images[0]!.created).to.equal(1763611200 * 1000);
    });

    it('takes tags as a [{Key, Value}] array', () => {
      const tags = [
        { Key: 'Name', Value: 'golden' },
        { Key: 'moz-type', Value: 'tst-linux64' },
        { Key: 'moz-created', Value: '1763600000' },
      ];
      const images = parseManifest(mozilla(moz('ami-0aaa', { tags })));
      expect(images).to.have.length(1);
      expect(images[0]!.pool).to.equal('tst-linux64');
      expect(images[0]!.created).to.equal(1763600000 * 1000);
    });

    it('uses the configured tag names', () => {
      const options = { poolTag: 'worker-type', createdTag: 'built' };
      const text = mozilla(
        moz('ami-0aaa', { tags: { 'worker-type': 'try-linux64', built: '1763000000' } }),
        // the default tags mean nothing under these options
        moz('ami-0bbb', { tags: { 'moz-type': 'bld-linux64', 'moz-created': '1763611200' } }),
      );
      expect(parseManifest(text, options)).to.deep.equal([
        { id: 'ami-0aaa', pool: 'try-linux64', region: 'us-east-1', created: 1763000000 * 1000, name: 'golden-ami-0aaa' },
      ]);
    });

    it('the default options are moz-type and moz-created', () => {
      expect(DEFAULT_MANIFEST_OPTIONS).to.deep.equal({ poolTag: 'moz-type', createdTag: 'moz-created' });
    });

    it('ignores entries whose state is not available, even malformed ones', () => {
      const text = mozilla(
        moz('ami-0aaa'),
        moz('ami-0bbb', { state: 'pending' }),
        moz('ami-0ccc', { state: 'deregistered', region: 'nowhere', tags: { 'moz-type': 'bld-linux64' } }),
        moz('ami-0ddd', { state: undefined }),
      );
      expect(parseManifest(text).map((i) => i.id)).to.deep.equal(['ami-0aaa']);
    });

    it('ignores entries without the pool tag (not a pool image)', () => {
      const text = mozilla(
        moz('ami-0aaa'),
        moz('ami-0bbb', { tags: { 'moz-created': '1763611200' } }),
        moz('ami-0ccc', { tags: { 'moz-type': '', 'moz-created': 'garbage' } }),
        moz('ami-0ddd', { tags: undefined }),
        moz('ami-0eee', { tags: [{ Key: 'Name', Value: 'base' }] }),
      );
      expect(parseManifest(text).map((i) => i.id)).to.deep.equal(['ami-0aaa']);
    });

    it('names the entry by its key when its id is bad', () => {
      const text = JSON.stringify({ 'ami-0aaa': moz('ami-0aaa'), 'ami-0bbb': moz('snap-0bbb') });
      expect(inputError(() => parseManifest(text))).to.match(/^manifest: "ami-0bbb"\.id: "snap-0bbb" is not an AMI id$/);
    });

    it('takes the id from the key when the entry has none', () => {
      const text = JSON.stringify({ 'ami-0aaa': { ...moz('ami-0aaa'), id: undefined } });
      expect(parseManifest(text)[0]!.id).to.equal('ami-0aaa');
    });

    const bad: [string, Record<string, unknown>, RegExp][] = [
      ['a missing moz-created', { tags: { 'moz-type': 'bld-linux64' } }, /"ami-0bad": tag moz-created/],
      [
        'a moz-created that is not a number',
        { tags: { 'moz-type': 'bld-linux64', 'moz-created': 'last tuesday' } },
        /"ami-0bad": tag moz-created/,
      ],
      ['an empty moz-created', { tags: { 'moz-type': 'bld-linux64', 'moz-created': '' } }, /"ami-0bad": tag moz-created/],
      [
        'a moz-created tag with no Value',
        { tags: [{ Key: 'moz-type', Value: 'bld-linux64' }, { Key: 'moz-created' }] },
        /"ami-0bad": tag moz-created/,
      ],
      ['a negative moz-created', { tags: { 'moz-type': 'bld-linux64', 'moz-created': '-5' } }, /"ami-0bad": tag moz-created/],
      ['a hexadecimal moz-created', { tags: { 'moz-type': 'bld-linux64', 'moz-created': '0x10' } }, /"ami-0bad": tag moz-created/],
      ['a bad region', { region: 'east' }, /"ami-0bad"\.region/],
      ['a missing region', { region: undefined }, /"ami-0bad"\.region/],
      ['an id that is not an AMI id', { id: 'snap-0bad' }, /"snap-0bad"\.id: "snap-0bad" is not an AMI id/],
      ['tags that are not {Key, Value}', { tags: ['moz-type=bld-linux64'] }, /"ami-0bad"\.tags/],
      ['tags that are a string', { tags: 'moz-type=bld-linux64' }, /"ami-0bad"\.tags/],
    ];
    for (const [what, over, pattern] of bad) {
      it(`rejects the whole manifest for ${what}, naming the entry`, () => {
        const message = inputError(() => parseManifest(mozilla(moz('ami-0good'), moz('ami-0bad', over))));
        expect(message).to.match(pattern);
        expect(message).to.not.include('\n');
      });
    }

    it('rejects an entry that is not an object', () => {
      const text = JSON.stringify({ 'ami-0aaa': moz('ami-0aaa'), 'ami-0bbb': 'available' });
      expect(inputError(() => parseManifest(text))).to.include('"ami-0bbb"');
    });

    it('rejects the same image under two keys', () => {
      const text = JSON.stringify({ 'ami-0aaa': moz('ami-0aaa'), copy: moz('ami-0aaa') });
      expect(inputError(() => parseManifest(text)))
        .to.include('ami-0aaa')
        .and.include('twice');
    });

    it('rejects a manifest with no image of any pool', () => {
      const text = mozilla(moz('ami-0aaa', { state: 'failed' }), moz('ami-0bbb', { tags: {} }));
      expect(inputError(() => parseManifest(text))).to.include('no usable image');
    });

    it('rejects an empty object', () => {
      expect(inputError(() => parseManifest('{}'))).to.include('no usable image');
    });

    it('property: the creation time is the tag in seconds × 1000, string or number', () => {
      fc.assert(
        fc.property(fc.integer({ min: 0, max: 4_000_000_000 }), fc.boolean(), (seconds, asString) => {
          const tags = { 'moz-type': 'bld-linux64', 'moz-created': asString ? String(seconds) : seconds };
          expect(parseManifest(mozilla(moz('ami-0aaa', { tags })))[0]!.created).to.equal(seconds * 1000);
        }),
      );
    });

    it('property: exactly the available entries with a pool tag are read, in order', () => {
      const entry = fc.record({ available: fc.boolean(), ours: fc.boolean() });
      fc.assert(
        fc.property(fc.array(entry, { minLength: 1, maxLength: 12 }), (shape) => {
          const entries = shape.map((s, n) =>
            moz(`ami-${n.toString(16).padStart(4, '0')}`, {
              state: s.available ? 'available' : 'pending',
              tags: s.ours ? { 'moz-type': `pool-${n}`, 'moz-created': String(1_700_000_000 + n) } : { Name: 'other' },
            }),
          );
          const wanted = entries.filter((_, n) => shape[n]!.available && shape[n]!.ours).map((e) => e.id);
          if (wanted.length === 0) expect(inputError(() => parseManifest(mozilla(...entries)))).to.include('no usable image');
          else expect(parseManifest(mozilla(...entries)).map((i) => i.id)).to.deep.equal(wanted);
        }),
      );
    });
  });

  describe('not a manifest', () => {
    it('rejects text that is not JSON with a one-line message', () => {
      const message = inputError(() => parseManifest('<html>\n<body>\n<h1>503 Service Unavailable</h1>\n</body>\n</html>'));
      expect(message).to.match(/^manifest: not JSON/);
      expect(message).to.not.include('\n');
    });

    it('rejects empty text', () => {
      expect(inputError(() => parseManifest(''))).to.match(/^manifest: not JSON/);
    });

    it('rejects JSON that is not an object', () => {
      for (const text of ['[]', 'null', '"amis"', '42']) {
        expect(inputError(() => parseManifest(text))).to.equal('manifest: expected a JSON object');
      }
    });
  });
});
