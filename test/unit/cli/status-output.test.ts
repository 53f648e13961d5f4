import { expect } from 'chai';
import { hostsLines, statusTable } from '../../../src/cli/commands/status.js';
import { printable, table } from '../../../src/cli/table.js';
import type { InstanceRow, StatusView } from '../../../src/plan/status.js';
import { policy } from '../../support/builders.js';

function row(overrides: Partial<InstanceRow>): InstanceRow {
  return {
    id: 'i-0000000000000000a',
    name: 'bld-linux64-spot-001',
    pool: 'bld-linux64',
    region: 'us-east-1',
    az: 'us-east-1a',
    instanceType: 'c5.xlarge',
    lifecycle: 'spot',
    state: 'running',
    privateIp: '10.0.1.4',
    publicIp: null,
    ami: 'ami-1',
    amiStatus: 'current',
    launchTime: '2026-11-20T12:00:00.000Z',
    age: 60,
    ...overrides,
  };
}

const view = (instances: InstanceRow[]): StatusView => ({ instances, pendingLaunches: [], pools: [] });
const INJECTED = 'bld-linux64-spot-002\n10.66.66.66 github.com';

describe('status output', () => {
  it('--hosts prints only names that are the pool own slot names, with valid addresses', () => {
    const out = hostsLines(
      view([
        row({}),
        row({ id: 'i-2', name: INJECTED, privateIp: '10.0.1.5' }),
        row({ id: 'i-3', name: 'bld-linux64-spot-0003', privateIp: '10.0.1.6' }),
        row({ id: 'i-4', name: 'github.com', privateIp: '10.0.1.7' }),
        row({ id: 'i-5', name: 'bld-linux64-spot-005', privateIp: '10.0.1.8 evil.example' }),
        row({ id: 'i-6', name: 'bld-linux64-spot-006', pool: 'no-such-pool', privateIp: '10.0.1.9' }),
        row({ id: 'i-7', name: 'bld-linux64-spot-1234', privateIp: '10.0.1.10' }),
      ]),
      [policy()],
    );
    expect(out).to.equal('10.0.1.4 bld-linux64-spot-001\n10.0.1.10 bld-linux64-spot-1234');
  });

  it('table cells show control characters and escapes as ?, so a tag cannot add a line or colour a terminal', () => {
    const out = table(
      ['NAME', 'N'],
      [
        [INJECTED, 1],
        ['\u001b[31mred\u001b[0m', 2],
      ],
    );
    expect(out.split('\n')).to.have.length(3);
    expect(out).to.include('bld-linux64-spot-002?10.66.66.66 github.com');
    expect(out).to.include('?[31mred?[0m');
    expect(printable('a\u202eb\u0085c\td')).to.equal('a?b?c?d');
  });

  it('status table: a pool name or instance name from tags cannot forge a line', () => {
    const out = statusTable({
      instances: [row({ name: INJECTED, pool: 'x\n10.66.66.66 evil' })],
      pendingLaunches: [],
      pools: [{ pool: 'x\n10.66.66.66 evil', desired: null, running: 1, pending: 0, spot: 1, onDemand: 0, outdated: 0, costPerHour: 0 }],
    });
    expect(out.split('\n').filter((l) => l.startsWith('10.66.66.66'))).to.deep.equal([]);
  });
});
