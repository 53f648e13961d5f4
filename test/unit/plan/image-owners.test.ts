import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../../src/config/config.js';
import { InputError } from '../../../src/domain/errors.js';
import { statusTable } from '../../../src/cli/commands/status.js';
import { statusView } from '../../../src/plan/status.js';
import { policy } from '../../support/builders.js';
import { SIM_START, SimFleet } from '../../support/sim-fleet.js';

describe('imageOwners: images only from allowed owners', () => {
  describe('config', () => {
    let dir: string;
    beforeEach(() => (dir = mkdtempSync(join(os.tmpdir(), 'fleet-owners-'))));
    afterEach(() => rmSync(dir, { recursive: true, force: true }));
    const load = (doc: unknown, env: NodeJS.ProcessEnv = {}) => {
      writeFileSync(join(dir, 'fleet.json'), JSON.stringify(doc));
      return loadConfig(join(dir, 'fleet.json'), env);
    };

    it('is ["self"] by default, takes account ids, and FLEET_IMAGE_OWNERS as a comma-separated list', () => {
      expect(load({}).imageOwners).to.deep.equal(['self']);
      expect(load({ imageOwners: ['self', '123456789012'] }).imageOwners).to.deep.equal(['self', '123456789012']);
      expect(load({}, { FLEET_IMAGE_OWNERS: 'self, 210987654321' }).imageOwners).to.deep.equal(['self', '210987654321']);
    });

    it('refuses anything else with one line naming the key', () => {
      for (const bad of [['amazon'], ['12345'], [], [7], 'self,amazon']) {
        let message = '';
        try {
          load({ imageOwners: bad });
        } catch (e) {
          expect(e).to.be.instanceOf(InputError);
          message = (e as Error).message;
        }
        expect(message, JSON.stringify(bad)).to.include('imageOwners');
        expect(message).not.to.include('\n');
      }
    });
  });

  it('never launches an image of another account, and the plan says why', async () => {
    const fleet = new SimFleet({ policies: [policy({ freshness: { canary: 0 } })] });
    // The newest image in the manifest belongs to another account: fleet keeps launching its own.
    const foreign = fleet.bakeImage('bld-linux64', 'us-east-1', SIM_START - 3600_000, '999999999999');
    fleet.publishManifest();
    fleet.publishDesired({ 'bld-linux64': 3 });
    const cycle = await fleet.cycle();
    await fleet.cycles(2);
    expect(fleet.instances('bld-linux64')).to.have.length(3);
    expect(fleet.instances('bld-linux64').filter((i) => i.ami === foreign)).to.deep.equal([]);
    const notes = cycle.plan.pools.find((p) => p.pool === 'bld-linux64')?.notes ?? [];
    expect(notes.join('\n')).to.include(`image ${foreign} in us-east-1 is never launched: not owned by imageOwners (self)`);
    const status = statusTable(statusView(cycle.observation.snapshot, fleet.policies));
    expect(status).to.include(`image ${foreign} in us-east-1 is never launched: not owned by imageOwners (self)`);
    // Described once: an image's owner never changes.
    expect(fleet.cloud.calls.filter((c) => c.action === 'DescribeImages')).to.have.length(1);
  });

  it('launches it once its account is an allowed owner', async () => {
    const fleet = new SimFleet({ policies: [policy({})], config: { imageOwners: ['self', '999999999999'] } });
    const shared = fleet.bakeImage('bld-linux64', 'us-east-1', SIM_START - 3600_000, '999999999999');
    fleet.publishManifest();
    fleet.publishDesired({ 'bld-linux64': 1 });
    await fleet.cycles(2);
    expect(fleet.instances('bld-linux64').map((i) => i.ami)).to.deep.equal([shared]);
  });
});
