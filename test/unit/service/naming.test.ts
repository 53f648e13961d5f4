import { expect } from 'chai';
import type { Fence } from '../../../src/cloud/fence.js';
import { type GuardedCloud, guardCloud } from '../../../src/cloud/guarded-cloud.js';
import type { LaunchSlot } from '../../../src/cloud/port.js';
import { lacksNameTag } from '../../../src/cloud/tags.js';
import { silentLogger } from '../../../src/service/logger.js';
import { type NameTag, setNames, unnamedInstances } from '../../../src/service/naming.js';
import { SimCloud } from '../../../src/fake-cloud/cloud.js';
import { T0, instance } from '../../support/builders.js';

/** A cloud whose computes only name: each region holds `tokens` mutate tokens now, and fails the names listed. */
function namingCloud(tokens: number, failing: ReadonlySet<string> = new Set()) {
  const sent: { region: string; id: string; slot: LaunchSlot }[] = [];
  const cloud = {
    compute: (region: string) => ({
      nameCapacityNow: () => tokens,
      nameInstance: async (id: string, slot: LaunchSlot) => {
        if (failing.has(id))
          throw Object.assign(new Error('not authorised'), { name: 'UnauthorizedOperation', $metadata: { httpStatusCode: 403 } });
        sent.push({ region, id, slot });
      },
    }),
  } as unknown as GuardedCloud;
  return { cloud, sent };
}

const tag = (region: string, n: number): NameTag => ({ region, instanceId: `i-${region}-${n}`, slot: { name: `ramp-${n}` } });

describe('naming: Name tags after a batched launch', () => {
  it('an instance lacks its Name tag only when it has none and its batch names it', () => {
    expect(lacksNameTag({ 'fleet:names': 'ramp-{nnn} 3-5' }, 1)).to.equal(true);
    expect(lacksNameTag({ 'fleet:names': 'ramp-{nnn} 3-5', Name: 'ramp-004' }, 1)).to.equal(false);
    expect(lacksNameTag({ Name: 'ramp-004' }, 0)).to.equal(false);
    expect(lacksNameTag({}, 0)).to.equal(false);
    // Not fleet's own form, or an index past the batch: nothing to name it with.
    expect(lacksNameTag({ 'fleet:names': 'not a list' }, 0)).to.equal(false);
    expect(lacksNameTag({ 'fleet:names': 'ramp-{nnn} 3-5' }, 3)).to.equal(false);
  });

  it('picks live instances listed without Name, oldest first, with the instance they replace; skips the rest', () => {
    const old = instance({ id: 'i-old', name: 'ramp-001', nameTagMissing: true, launchTime: T0 - 600_000, replaces: 'i-gone' });
    const young = instance({ id: 'i-young', name: 'ramp-002', nameTagMissing: true, launchTime: T0 - 60_000 });
    const named = instance({ id: 'i-named', name: 'ramp-003' });
    const ending = instance({ id: 'i-ending', name: 'ramp-004', nameTagMissing: true, state: 'shutting-down' });
    const leaving = instance({ id: 'i-leaving', name: 'ramp-005', nameTagMissing: true });
    const wanted = unnamedInstances([young, named, ending, leaving, old], new Set(['i-leaving']));
    expect(wanted).to.deep.equal([
      { region: 'us-east-1', instanceId: 'i-old', slot: { name: 'ramp-001', replaces: 'i-gone' } },
      { region: 'us-east-1', instanceId: 'i-young', slot: { name: 'ramp-002' } },
    ]);
  });

  it('sends per region only what the mutate bucket holds now (and the limit): the rest are left, not waited for', async () => {
    const { cloud, sent } = namingCloud(3);
    const wanted = [...[1, 2, 3, 4, 5].map((n) => tag('us-east-1', n)), ...[1, 2].map((n) => tag('us-west-2', n))];
    expect(await setNames(wanted, cloud, silentLogger())).to.deep.equal({ named: 5, failed: 0, left: 2 });
    expect(sent.map((s) => s.id)).to.deep.equal(['i-us-east-1-1', 'i-us-east-1-2', 'i-us-east-1-3', 'i-us-west-2-1', 'i-us-west-2-2']);
    const limited = namingCloud(100);
    expect(await setNames(wanted, limited.cloud, silentLogger(), 1)).to.deep.equal({ named: 2, failed: 0, left: 5 });
  });

  it('a failed CreateTags is counted and logged, never thrown', async () => {
    const { cloud, sent } = namingCloud(10, new Set(['i-us-east-1-2']));
    expect(
      await setNames(
        [1, 2, 3].map((n) => tag('us-east-1', n)),
        cloud,
        silentLogger(),
      ),
    ).to.deep.equal({ named: 2, failed: 1, left: 0 });
    expect(sent).to.have.length(2);
  });

  it('is fenced: a replica without the lease sends no CreateTags', async () => {
    const sim = new SimCloud({ seed: 1, start: T0, defaultSubnets: ['us-east-1'] });
    const closed: Fence = { holds: () => false, remainingMs: () => 0 };
    const cloud = guardCloud(sim, { clock: sim.clock, random: () => 0.5, fence: closed });
    const result = await sim.clock.run(() => setNames([tag('us-east-1', 1)], cloud, silentLogger()));
    expect(result).to.deep.equal({ named: 0, failed: 1, left: 0 });
    expect(sim.calls.filter((c) => c.action === 'CreateTags')).to.deep.equal([]);
  });
});
