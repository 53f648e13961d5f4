import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { applyGuard } from '../../src/plan/guard.js';
import { recordDrains } from '../../src/service/drains.js';
import { dateEnds } from '../../src/service/observe.js';
import { DirectoryStateStore } from '../../src/shared/state-store.js';
import { T0, image, instance, policy, snapshot } from '../support/builders.js';

const MINUTE = 60_000;
const IMAGES = [image('ami-old', 48), image('ami-new', 1)];

/** An instance of ami-new that ended by itself `endedAgo` minutes ago, `lived` minutes after its launch. */
function ended(endedAgo: number, lived = 3) {
  return instance({
    ami: 'ami-new',
    state: 'terminated',
    endCause: 'instance-initiated',
    launchTime: T0 - (endedAgo + lived) * MINUTE,
    endedAt: T0 - endedAgo * MINUTE,
  });
}

describe('launch guard: which early ends count', () => {
  // Default guard: 3 failures within a 900 s window.
  it('counts early ends only within its window: ends older than the window are forgiven', () => {
    expect(applyGuard(snapshot({ images: IMAGES, instances: [ended(2), ended(5), ended(14)] }), [policy()]).trips).to.have.length(1);
    // The third end is 16 minutes old: it launched and died early, but outside the window now.
    expect(applyGuard(snapshot({ images: IMAGES, instances: [ended(2), ended(5), ended(16)] }), [policy()]).trips).to.deep.equal([]);
    expect(applyGuard(snapshot({ images: IMAGES, instances: [ended(20), ended(30), ended(40)] }), [policy()]).trips).to.deep.equal([]);
  });

  it('never counts a worker fleet asked to leave (fleet:retire) that powered itself off', () => {
    const asked = (endedAgo: number) => ({ ...ended(endedAgo), retireAt: T0 + 30 * MINUTE, retireCause: 'scale-down' as const });
    expect(applyGuard(snapshot({ images: IMAGES, instances: [asked(2), asked(5), asked(8)] }), [policy()]).trips).to.deep.equal([]);
  });

  it('after `fleet undrain` counts only ends after the undrain', () => {
    const failures = [ended(2), ended(5), ended(8)];
    const undrainedAt = { 'ami-new': T0 - 3 * MINUTE };
    // Two of the three ended before the undrain: the image gets a fresh start.
    expect(applyGuard(snapshot({ images: IMAGES, instances: failures, undrainedAt }), [policy()]).trips).to.deep.equal([]);
    // Three new early ends after it trip the guard again.
    expect(
      applyGuard(snapshot({ images: IMAGES, instances: [...failures, ended(1), ended(0.5)], undrainedAt }), [policy()]).trips,
    ).to.have.length(1);
    // An undrain of another image changes nothing.
    expect(applyGuard(snapshot({ images: IMAGES, instances: failures, undrainedAt: { 'ami-old': T0 } }), [policy()]).trips).to.have.length(
      1,
    );
  });

  it('an end the cloud does not date is dated when first seen, and that date is kept: the window slides past it', () => {
    const undated = { ...ended(0), endedAt: undefined };
    const first = dateEnds([undated], {}, T0);
    expect(first.instances[0]?.endedAt).to.equal(T0);
    expect(first.endsSeen).to.deep.equal({ [undated.id]: T0 });
    // Twenty minutes on, still listed as ended: it keeps its first-seen date, so it is outside the window.
    const later = dateEnds([undated], first.endsSeen, T0 + 20 * MINUTE);
    expect(later.instances[0]?.endedAt).to.equal(T0);
    const stillListed = [0, 1, 2].map(() => ({ ...ended(0), endedAt: undefined }));
    const seen = dateEnds(stillListed, {}, T0);
    const now = T0 + 20 * MINUTE;
    const dated = dateEnds(stillListed, seen.endsSeen, now).instances;
    expect(applyGuard(snapshot({ now, images: IMAGES, instances: dated }), [policy()]).trips).to.deep.equal([]);
    // A cloud-dated end keeps the cloud's date and is not remembered.
    expect(dateEnds([ended(4)], {}, T0).endsSeen).to.deep.equal({});
  });

  it('fleet undrain writes down when, for the guard; undraining an image that was never drained writes nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fleet-guard-'));
    try {
      const state = new DirectoryStateStore(dir);
      await recordDrains(state, [{ ami: 'ami-new', reason: 'guard: 3 ended', by: 'guard' }], T0 - 10 * MINUTE);
      const undrained = await recordDrains(
        state,
        [
          { ami: 'ami-new', reason: '', by: 'operator' },
          { ami: 'ami-other', reason: '', by: 'operator' },
        ],
        T0,
        true,
      );
      expect(undrained.doc).to.deep.equal({ amis: {}, undrained: { 'ami-new': T0 } });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
