import { expect } from 'chai';
import fc from 'fast-check';
import { ImageIndex } from '../../src/policy/images.js';
import { imageVerdict, launchableImages } from '../../src/policy/verdict.js';
import { image } from '../support/builders.js';

const POOL = 'bld-linux64';
const REGION = 'us-east-1';
const MANIFEST = [image('ami-old', 48), image('ami-prev', 24), image('ami-new', 2), image('ami-west', 1, POOL, 'us-west-2'), image('ami-tst', 1, 'tst-linux64')];

function index(drained: readonly string[] = []): ImageIndex {
  return new ImageIndex(MANIFEST, new Set(drained));
}

describe('verdict: would fleet launch this image for this pool and region now', () => {
  it('the launchable set is the current image of the pool and region', () => {
    expect(launchableImages(index(), POOL, REGION).map((i) => i.id)).to.deep.equal(['ami-new']);
    expect(launchableImages(index(), POOL, 'us-west-2').map((i) => i.id)).to.deep.equal(['ami-west']);
    expect(launchableImages(index(['ami-new']), POOL, REGION).map((i) => i.id)).to.deep.equal(['ami-prev']);
    expect(launchableImages(index(), POOL, 'eu-west-1')).to.deep.equal([]);
  });

  it('launchable: the image fleet launches', () => {
    const v = imageVerdict('ami-new', POOL, REGION, index());
    expect(v.verdict).to.equal('launchable');
    expect(v.reason).to.equal('ami-new is the image fleet launches for bld-linux64 in us-east-1');
  });

  it('outdated: an older image, or one the manifest does not list, names what fleet launches instead', () => {
    const v = imageVerdict('ami-prev', POOL, REGION, index());
    expect(v.verdict).to.equal('outdated');
    expect(v.reason).to.match(/^ami-prev is outdated: fleet launches ami-new \(\d{4}-\d\d-\d\dT[\d:.]+Z\) for bld-linux64 in us-east-1$/);
    expect(imageVerdict('ami-handmade', POOL, REGION, index()).verdict).to.equal('outdated');
    // another pool's image, or the pool's image of another region, is not this pool's here
    expect(imageVerdict('ami-tst', POOL, REGION, index()).verdict).to.equal('outdated');
    expect(imageVerdict('ami-west', POOL, REGION, index()).verdict).to.equal('outdated');
  });

  it('drained: a drained image, whatever its age; the previous image becomes launchable again', () => {
    expect(imageVerdict('ami-new', POOL, REGION, index(['ami-new']))).to.deep.equal({ verdict: 'drained', reason: 'ami-new is drained: fleet never launches it again' });
    expect(imageVerdict('ami-old', POOL, REGION, index(['ami-old'])).verdict).to.equal('drained');
    expect(imageVerdict('ami-prev', POOL, REGION, index(['ami-new'])).verdict).to.equal('launchable');
  });

  it('unknown: fleet launches nothing for that pool and region, so nothing better exists', () => {
    const none = imageVerdict('ami-new', POOL, 'eu-west-1', index());
    expect(none.verdict).to.equal('unknown');
    expect(none.reason).to.match(/fleet launches no image for bld-linux64 in eu-west-1: the manifest lists no image of it/);
    const allDrained = imageVerdict('ami-handmade', POOL, REGION, index(['ami-old', 'ami-prev', 'ami-new']));
    expect(allDrained.verdict).to.equal('unknown');
    expect(allDrained.reason).to.match(/every image the manifest lists for it is drained/);
    expect(imageVerdict('ami-new', 'no-such-pool', REGION, index()).verdict).to.equal('unknown');
  });

  it('property: launchable exactly when the image is in the launchable set; never launchable when drained', () => {
    const ids = ['ami-a', 'ami-b', 'ami-c', 'ami-d'];
    fc.assert(
      fc.property(
        fc.array(fc.record({ id: fc.constantFrom(...ids), hoursAgo: fc.integer({ min: 0, max: 100 }), region: fc.constantFrom(REGION, 'us-west-2') }), { maxLength: 6 }),
        fc.subarray(ids),
        fc.constantFrom(...ids, 'ami-unlisted'),
        (entries, drained, ami) => {
          const seen = new Set<string>();
          const images = entries.filter((e) => !seen.has(`${e.id} ${e.region}`) && seen.add(`${e.id} ${e.region}`)).map((e) => image(e.id, e.hoursAgo, POOL, e.region));
          const idx = new ImageIndex(images, new Set(drained));
          const { verdict } = imageVerdict(ami, POOL, REGION, idx);
          const launchable = launchableImages(idx, POOL, REGION).map((i) => i.id);
          expect(verdict === 'launchable').to.equal(launchable.includes(ami));
          if (drained.includes(ami)) expect(verdict).to.equal('drained');
          if (launchable.length === 0) expect(verdict).to.be.oneOf(['drained', 'unknown']);
          if (launchable.length > 0 && !launchable.includes(ami) && !drained.includes(ami)) expect(verdict).to.equal('outdated');
        },
      ),
    );
  });
});
