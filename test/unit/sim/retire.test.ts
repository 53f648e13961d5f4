// The simulated workers' agent (`fleet worker` and a hook that waits for the job): a worker tagged
// fleet:retire finishes its job, takes no new one and powers itself off; without the agent it goes on.

import { expect } from 'chai';
import { retireTags } from '../../../src/cloud/tags.js';
import { BOOT_MS } from '../../../src/sim/ci/world-workers.js';
import type { SimInstance } from '../../../src/fake-cloud/world.js';
import { CI_POOL, CI_START, ciWorld } from '../../support/sim-ci.js';

const START = CI_START;
const MIN = 60_000;
const POOL = CI_POOL;

function setup(agent: boolean) {
  const world = ciWorld({ agent });
  return { ...world, worker: world.launch('w-1', world.image.id, { 'fleet:managed-by': 'releng' }) };
}

describe('sim: workers asked to leave', () => {
  const ready = START + MIN + BOOT_MS;

  for (const agent of [true, false]) {
    it(agent ? 'with the agent: finishes its job, takes no new one, powers off' : 'without the agent: keeps taking jobs', async () => {
      const { cloud, ci, worker, at } = setup(agent);
      ci.submit(POOL, 10 * MIN);
      ci.submit(POOL, 10 * MIN);
      expect(at(ready)?.busy).to.deep.equal(['w-1']);
      // fleet asks it to leave through the cloud, as the executor does: it shows in the listing.
      const asked = await cloud.compute('us-east-1').retire('releng', [{ id: worker.id, deadline: ready + 60 * MIN, cause: 'scale-down' }]);
      expect(asked).to.deep.equal([worker.id]);
      const [listed] = (await cloud.compute('us-east-1').listInstancesPage('releng')).items;
      expect(listed).to.include({ retireAt: ready + 60 * MIN, retireCause: 'scale-down' });
      const later = at(ready + 10 * MIN + 30_000);
      expect(ci.tally(POOL).completed, 'the first job completes').to.equal(1);
      if (agent) {
        expect(later).to.include({ pending: 1, running: 0 });
        expect((cloud.world.instances.get(worker.id) as SimInstance).stateReason).to.equal('Client.InstanceInitiatedShutdown');
      } else {
        expect(later).to.include({ pending: 0, running: 1 });
        expect((cloud.world.instances.get(worker.id) as SimInstance).state).to.equal('running');
      }
    });
  }

  it('never tags an instance of another fleet', async () => {
    const { cloud, worker } = setup(true);
    expect(await cloud.compute('us-east-1').retire('other', [{ id: worker.id, deadline: START, cause: 'scale-down' }])).to.deep.equal([]);
    expect(worker.tags).to.not.have.property('fleet:retire');
    expect(retireTags(START, 'scale-down')).to.deep.equal({ 'fleet:retire': '2026-11-20T10:00:00Z', 'fleet:retire-cause': 'scale-down' });
  });
});
