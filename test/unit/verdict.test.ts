import { expect } from 'chai';
import fc from 'fast-check';
import { ImageIndex } from '../../src/policy/images.js';
import { type Rollout, launchableImages, rolloutKey, rolloutOf } from '../../src/policy/rollout.js';
import { imageVerdict } from '../../src/policy/verdict.js';
import { T0, image, policy } from '../support/builders.js';

const POOL = 'bld-linux64';
const REGION = 'us-east-1';
const MANIFEST = [
  image('ami-old', 48),
  image('ami-prev', 24),
  image('ami-new', 2),
  image('ami-west', 1, POOL, 'us-west-2'),
  image('ami-tst', 1, 'tst-linux64'),
];

function index(drained: readonly string[] = []): ImageIndex {
  return new ImageIndex(MANIFEST, new Set(drained));
}

/** The rollout as a worker sees it: the manifest, the drains and the proofs the journal remembers, no instances. */
function rollout(idx: ImageIndex, proven: readonly string[] = [], region = REGION, pool = POOL): Rollout {
  const established = Object.fromEntries(proven.map((ami) => [rolloutKey(pool, region, ami), T0 - 3600_000]));
  return rolloutOf({
    policy: policy({ pool, regions: { [region]: { subnets: ['subnet-a'] } } }),
    region,
    images: idx,
    established,
    instances: [],
    pending: [],
    now: T0,
  });
}

const verdict = (ami: string, idx: ImageIndex, proven: readonly string[] = [], region = REGION, pool = POOL) =>
  imageVerdict(ami, rollout(idx, proven, region, pool), idx);

describe('verdict: would fleet launch this image for this pool and region now', () => {
  it('with nothing proved yet, the newest image of the pool and region is the one launched', () => {
    expect(launchableImages(rollout(index())).map((i) => i.id)).to.deep.equal(['ami-new']);
    expect(launchableImages(rollout(index(), [], 'us-west-2')).map((i) => i.id)).to.deep.equal(['ami-west']);
    expect(launchableImages(rollout(index(['ami-new']))).map((i) => i.id)).to.deep.equal(['ami-prev']);
    expect(launchableImages(rollout(index(), [], 'eu-west-1'))).to.deep.equal([]);
  });

  it('during a rollout both the new image on trial and the image every other launch uses are launchable', () => {
    const idx = index();
    expect(launchableImages(rollout(idx, ['ami-prev'])).map((i) => i.id)).to.deep.equal(['ami-new', 'ami-prev']);
    const canary = verdict('ami-new', idx, ['ami-prev']);
    expect(canary.verdict).to.equal('launchable');
    expect(canary.reason).to.equal('ami-new is the new image on trial (canary) for bld-linux64 in us-east-1');
    const previous = verdict('ami-prev', idx, ['ami-prev']);
    expect(previous).to.deep.equal({
      verdict: 'launchable',
      reason: 'ami-prev is the image fleet launches for bld-linux64 in us-east-1 beside ami-new on trial',
    });
    expect(verdict('ami-old', idx, ['ami-prev']).verdict).to.equal('outdated');
    // Once the new image proved itself, the previous one is outdated.
    expect(verdict('ami-prev', idx, ['ami-prev', 'ami-new']).verdict).to.equal('outdated');
  });

  it('launchable: the image fleet launches', () => {
    const v = verdict('ami-new', index());
    expect(v.verdict).to.equal('launchable');
    expect(v.reason).to.equal('ami-new is the image fleet launches for bld-linux64 in us-east-1');
  });

  it('outdated: an older image, or one the manifest does not list, names what fleet launches instead', () => {
    const v = verdict('ami-prev', index());
    expect(v.verdict).to.equal('outdated');
    expect(v.reason).to.equal(
      `ami-prev is outdated: fleet launches ami-new (${new Date(T0 - 2 * 3600_000).toISOString()}) for bld-linux64 in us-east-1`,
    );
    expect(verdict('ami-handmade', index()).verdict).to.equal('outdated');
    // another pool's image, or the pool's image of another region, is not this pool's here
    expect(verdict('ami-tst', index()).verdict).to.equal('outdated');
    expect(verdict('ami-west', index()).verdict).to.equal('outdated');
  });

  it('drained: a drained image, whatever its age; the previous image becomes launchable again', () => {
    expect(verdict('ami-new', index(['ami-new']))).to.deep.equal({
      verdict: 'drained',
      reason: 'ami-new is drained: fleet never launches it again',
    });
    expect(verdict('ami-old', index(['ami-old'])).verdict).to.equal('drained');
    expect(verdict('ami-prev', index(['ami-new'])).verdict).to.equal('launchable');
  });

  it('unknown: fleet launches nothing for that pool and region, so nothing better exists', () => {
    const none = verdict('ami-new', index(), [], 'eu-west-1');
    expect(none.verdict).to.equal('unknown');
    expect(none.reason).to.equal('fleet launches no image for bld-linux64 in eu-west-1: the manifest lists no image of it');
    const allDrained = verdict('ami-handmade', index(['ami-old', 'ami-prev', 'ami-new']));
    expect(allDrained.verdict).to.equal('unknown');
    expect(allDrained.reason).to.equal(
      'fleet launches no image for bld-linux64 in us-east-1: every image the manifest lists for it is drained',
    );
    expect(verdict('ami-new', index(), [], REGION, 'no-such-pool').verdict).to.equal('unknown');
  });

  it('property: launchable exactly when the image is in the launchable set; never launchable when drained', () => {
    const ids = ['ami-a', 'ami-b', 'ami-c', 'ami-d'];
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            id: fc.constantFrom(...ids),
            hoursAgo: fc.integer({ min: 0, max: 100 }),
            region: fc.constantFrom(REGION, 'us-west-2'),
          }),
          { maxLength: 6 },
        ),
        fc.subarray(ids),
        fc.subarray(ids),
        fc.constantFrom(...ids, 'ami-unlisted'),
        (entries, drained, proven, ami) => {
          const seen = new Set<string>();
          const images = entries
            .filter((e) => !seen.has(`${e.id} ${e.region}`) && seen.add(`${e.id} ${e.region}`))
            .map((e) => image(e.id, e.hoursAgo, POOL, e.region));
          const idx = new ImageIndex(images, new Set(drained));
          const r = rollout(idx, proven);
          const { verdict: v } = imageVerdict(ami, r, idx);
          const launchable = launchableImages(r).map((i) => i.id);
          expect(v === 'launchable').to.equal(launchable.includes(ami));
          if (drained.includes(ami)) expect(v).to.equal('drained');
          if (launchable.length === 0) expect(v).to.be.oneOf(['drained', 'unknown']);
          if (launchable.length > 0 && !launchable.includes(ami) && !drained.includes(ami)) expect(v).to.equal('outdated');
          expect(launchable.length).to.be.at.most(2);
        },
      ),
    );
  });
});
