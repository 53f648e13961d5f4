// deploy/systemd/fleet.service: its settings, and systemd's own reading of it where systemd-analyze
// is installed (skipped with a printed reason otherwise).
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EXIT } from '../../../src/cli/program.js';

const UNIT = 'deploy/systemd/fleet.service';

/** The unit's settings per section; a key may appear more than once. */
function readUnit(text: string): Map<string, Map<string, string[]>> {
  const sections = new Map<string, Map<string, string[]>>();
  let current: Map<string, string[]> | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const section = /^\[(.+)\]$/.exec(line);
    if (section) {
      current = new Map();
      sections.set(section[1] as string, current);
      continue;
    }
    const eq = line.indexOf('=');
    if (current === undefined || eq < 0) throw new Error(`${UNIT}: cannot read ${JSON.stringify(line)}`);
    const key = line.slice(0, eq).trim();
    current.set(key, [...(current.get(key) ?? []), line.slice(eq + 1).trim()]);
  }
  return sections;
}

const unit = readUnit(readFileSync(UNIT, 'utf8'));
const service = unit.get('Service') ?? new Map<string, string[]>();
const one = (key: string) => {
  const values = service.get(key);
  expect(values, `[Service] ${key}`).to.be.an('array').with.lengthOf(1);
  return (values as string[])[0] as string;
};

function seconds(value: string): number {
  const match = /^(\d+)\s*(s|sec|min|m)?$/.exec(value);
  if (!match) throw new Error(`not a duration in seconds or minutes: ${value}`);
  return Number(match[1]) * (match[2] === 'min' || match[2] === 'm' ? 60 : 1);
}

function systemdAnalyze(): string | undefined {
  const probe = spawnSync('systemd-analyze', ['--version'], { encoding: 'utf8' });
  return probe.error === undefined && probe.status === 0 ? probe.stdout.split('\n')[0] : undefined;
}

describe('deploy: systemd unit', () => {
  it('runs fleet reconcile, settings from an environment file, restarting on failure but not on a config error', () => {
    expect(one('ExecStart')).to.match(/^\/\S+\/fleet reconcile$/);
    expect(one('EnvironmentFile')).to.equal('/etc/fleet/fleet.env');
    expect(one('Restart')).to.equal('on-failure');
    expect(one('RestartPreventExitStatus')).to.equal(String(EXIT.usage));
    expect(readFileSync('deploy/systemd/fleet.env', 'utf8')).to.match(/^FLEET_CONFIG=\/etc\/fleet\/\S+$/m);
  });

  it('stops with SIGTERM and waits long enough for the action in flight', () => {
    expect(one('KillSignal')).to.equal('SIGTERM');
    // A cycle's calls are retried with backoff under throttling; give it minutes, not the default 90 s.
    expect(seconds(one('TimeoutStopSec'))).to.be.at.least(180);
  });

  it('sets its own open-file limit, well above what the metrics server may hold', () => {
    expect(Number(one('LimitNOFILE'))).to.be.at.least(4096);
  });

  it('is sandboxed: its own user, no capabilities, a read-only system, one writable state directory', () => {
    expect(one('DynamicUser')).to.equal('yes');
    expect(one('CapabilityBoundingSet')).to.equal('');
    for (const key of [
      'NoNewPrivileges',
      'ProtectHome',
      'PrivateTmp',
      'PrivateDevices',
      'ProtectKernelTunables',
      'ProtectControlGroups',
      'RestrictSUIDSGID',
    ]) {
      expect(one(key), key).to.equal('yes');
    }
    expect(one('ProtectSystem')).to.equal('strict');
    expect(one('RestrictAddressFamilies').split(/\s+/).sort()).to.deep.equal(['AF_INET', 'AF_INET6', 'AF_UNIX']);
    expect(one('StateDirectory')).to.equal('fleet');
    expect(one('ReadWritePaths')).to.equal('/var/lib/fleet');
    expect(one('WorkingDirectory')).to.equal('/var/lib/fleet');
    // V8 compiles code at run time: this one setting would keep Node from starting.
    expect(service.has('MemoryDenyWriteExecute')).to.equal(false);
  });

  describe('as systemd reads it', function () {
    const version = systemdAnalyze();
    let root: string;

    before(function () {
      if (version === undefined) {
        console.log(
          `    skipping "${this.test?.parent?.fullTitle() ?? 'systemd'}": systemd-analyze is not installed (apt-get install systemd)`,
        );
        this.skip();
      }
      // A scratch root: the unit where systemd looks for it, systemd's own units (sysinit.target, ...),
      // and a stand-in for the installed fleet, whose existence verify checks.
      root = mkdtempSync(join(tmpdir(), 'fleet-systemd-'));
      mkdirSync(join(root, 'etc/systemd/system'), { recursive: true });
      mkdirSync(join(root, 'usr/local/bin'), { recursive: true });
      mkdirSync(join(root, 'usr/lib/systemd'), { recursive: true });
      const systemUnits = ['/usr/lib/systemd/system', '/lib/systemd/system'].find((d) => existsSync(d));
      if (systemUnits !== undefined) cpSync(systemUnits, join(root, 'usr/lib/systemd/system'), { recursive: true, verbatimSymlinks: true });
      writeFileSync(join(root, 'usr/local/bin/fleet'), '#!/bin/sh\n');
      chmodSync(join(root, 'usr/local/bin/fleet'), 0o755);
      cpSync(UNIT, join(root, 'etc/systemd/system/fleet.service'));
    });

    after(() => {
      if (root) rmSync(root, { recursive: true, force: true });
    });

    it('passes systemd-analyze verify without an error or a warning', () => {
      const r = spawnSync('systemd-analyze', ['verify', `--root=${root}`, '--man=no', '/etc/systemd/system/fleet.service'], {
        encoding: 'utf8',
      });
      // verify exits 0 on unknown keys and unparsable values (it only warns): its output must be empty.
      expect(`${r.stdout}${r.stderr}`.trim(), version).to.equal('');
      expect(r.status).to.equal(0);
    });

    it('has a low exposure by systemd-analyze security', function () {
      const r = spawnSync('systemd-analyze', ['security', '--offline=true', `--root=${root}`, '/etc/systemd/system/fleet.service'], {
        encoding: 'utf8',
      });
      const overall = /Overall exposure level for fleet\.service: ([\d.]+)/.exec(r.stdout);
      if (overall === null && /offline/.test(r.stderr)) {
        console.log(`      skipping: ${version} cannot analyse a unit offline`);
        this.skip();
      }
      expect(overall, r.stderr).not.to.equal(null);
      // systemd's scale: 0 (locked down) to 10 (exposed); below 2 it rates a service "OK".
      expect(Number(overall?.[1])).to.be.below(2);
    });
  });
});
