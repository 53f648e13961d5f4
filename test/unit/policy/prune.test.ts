import { expect } from 'chai';
import fc from 'fast-check';
import type { Image } from '../../../src/domain/types.js';
import { ImageIndex } from '../../../src/policy/images.js';
import { prunePlan } from '../../../src/policy/prune.js';
import { image } from '../../support/builders.js';

const pruned = (decisions: ReturnType<typeof prunePlan>) =>
  decisions
    .filter((d) => d.prune)
    .map((d) => d.image.id)
    .sort();

describe('prune: which AMIs the janitor may deregister', () => {
  const history = [image('ami-1', 96), image('ami-2', 72), image('ami-3', 48), image('ami-4', 24)];

  it('keeps the newest N per pool and region and prunes the rest', () => {
    expect(pruned(prunePlan(history, new Set(), 2, new Set()))).to.deep.equal(['ami-1', 'ami-2']);
    expect(
      pruned(prunePlan([...history, image('ami-t1', 90, 'tst-linux64'), image('ami-t2', 10, 'tst-linux64')], new Set(), 1, new Set())),
    ).to.deep.equal(['ami-1', 'ami-2', 'ami-3', 'ami-t1']);
  });

  it('never prunes the current image, even with keep 0 or when newer ones are drained', () => {
    expect(pruned(prunePlan(history, new Set(), 0, new Set()))).to.deep.equal(['ami-1', 'ami-2', 'ami-3']);
    const decisions = prunePlan(history, new Set(['ami-4', 'ami-3']), 0, new Set());
    expect(pruned(decisions)).to.deep.equal(['ami-1', 'ami-3', 'ami-4']);
    expect(decisions.find((d) => d.image.id === 'ami-2')?.why).to.equal('current');
  });

  it('never prunes an image any instance uses', () => {
    const decisions = prunePlan(history, new Set(), 0, new Set(['ami-1']));
    expect(pruned(decisions)).to.deep.equal(['ami-2', 'ami-3']);
    expect(decisions.find((d) => d.image.id === 'ami-1')?.why).to.equal('in use by an instance');
  });

  it('an image listed for two pools is pruned only if both allow it', () => {
    const shared = [image('ami-shared', 50), image('ami-b', 10), image('ami-shared', 50, 'tst-linux64')];
    // Older than bld's current one, but tst's current image: it stays.
    const decisions = prunePlan(shared, new Set(), 0, new Set());
    expect(pruned(decisions)).to.deep.equal([]);
    expect(decisions.find((d) => d.image.id === 'ami-shared' && d.image.pool === 'bld-linux64')?.why).to.equal('kept for another pool');
  });

  it('property: whatever the manifest, keep count, drains and usage, current and in-use images survive', () => {
    const imageArb = fc.record({
      id: fc.constantFrom('ami-a', 'ami-b', 'ami-c', 'ami-d', 'ami-e', 'ami-f'),
      pool: fc.constantFrom('bld', 'tst'),
      region: fc.constantFrom('us-east-1', 'us-west-2'),
      created: fc.integer({ min: 0, max: 1000 }),
      name: fc.constant(''),
    });
    fc.assert(
      fc.property(
        fc.uniqueArray(imageArb, { selector: (i) => `${i.id} ${i.pool} ${i.region}`, maxLength: 12 }),
        fc.integer({ min: 0, max: 4 }),
        fc.subarray(['ami-a', 'ami-b', 'ami-c']),
        fc.subarray(['ami-d', 'ami-e']),
        (images: Image[], keep, drained, used) => {
          const decisions = prunePlan(images, new Set(drained), keep, new Set(used));
          const index = new ImageIndex(images, new Set(drained));
          for (const d of decisions.filter((x) => x.prune)) {
            expect(used).not.to.include(d.image.id);
            for (const listing of images.filter((i) => i.id === d.image.id && i.region === d.image.region)) {
              expect(index.newest(listing.pool, listing.region)?.id).to.not.equal(d.image.id);
              const newer = images.filter(
                (i) =>
                  i.pool === listing.pool &&
                  i.region === listing.region &&
                  (i.created > listing.created || (i.created === listing.created && i.id > listing.id)),
              );
              expect(newer.length).to.be.at.least(keep);
            }
          }
        },
      ),
    );
  });
});
