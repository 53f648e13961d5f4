import { expect } from 'chai';
import { parse } from 'yaml';
import { loadPolicies } from '../../../src/config/policies.js';
import type { LaunchAction } from '../../../src/domain/actions.js';
import { formatName } from '../../../src/policy/names.js';
import { renderUserData, usesName } from '../../../src/policy/user-data.js';
import { launchCalls } from '../../../src/service/launch-calls.js';
import { T0 } from '../../support/builders.js';

// The shipped example policies: their user data must let launches batch (no {name}), and the worker
// must still learn its name at boot (from metadata, through fleet check-ami --json).

const policies = loadPolicies('policies');

describe('example policies: user data that batches', () => {
  it('ships the three pools of the seeds’ world', () => {
    expect(policies.map((p) => p.pool)).to.deep.equal(['bld-linux64', 'try-linux64', 'tst-linux64']);
  });

  for (const policy of policies) {
    describe(policy.pool, () => {
      it('has user data without {name}, so launches into one offer share calls of 1, 2, 4, ...', () => {
        expect(policy.userData).to.be.a('string');
        expect(usesName(policy.userData as string)).to.equal(false);
        const region = Object.keys(policy.regions)[0] as string;
        const slots: LaunchAction[] = Array.from({ length: 10 }, (_, k) => ({
          kind: 'launch',
          pool: policy.pool,
          region,
          az: `${region}a`,
          subnetId: policy.regions[region]?.subnets[0] as string,
          instanceType: policy.instanceTypes[0]?.type as string,
          lifecycle: 'spot',
          ami: 'ami-0abc',
          name: formatName(policy.names, k + 1),
          cause: 'scale-up',
          reason: 'scale-up',
        }));
        const { calls } = launchCalls(slots, {
          fleet: 'releng',
          policies: new Map([[policy.pool, policy]]),
          journaled: () => undefined,
          now: T0,
        });
        expect(calls.map((c) => c.request.slots.length)).to.deep.equal([1, 2, 4, 3]);
      });

      it('is cloud-config that reads the name at boot with fleet check-ami --json, and sets the hostname from it', () => {
        const rendered = renderUserData(policy.userData as string, {
          name: 'unused',
          pool: policy.pool,
          region: 'us-east-1',
          az: 'us-east-1a',
        });
        expect(rendered.startsWith('#cloud-config\n')).to.equal(true);
        const doc = parse(rendered) as { bootcmd: string[][]; preserve_hostname: boolean };
        const commands = doc.bootcmd.map((c) => c.join(' '));
        expect(
          commands.some((c) => c.includes('fleet check-ami --json > /run/fleet-identity.json') && c.includes('3|4) poweroff')),
        ).to.equal(true);
        expect(commands.some((c) => c.includes('/run/fleet-identity.json') && c.includes('hostnamectl set-hostname'))).to.equal(true);
        // cloud-init must not set the hostname back afterwards.
        expect(doc.preserve_hostname).to.equal(true);
      });
    });
  }
});
