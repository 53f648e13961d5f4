// The npm tarball as an operator installs it: packed from a clean copy of the project (no dist/),
// installed globally into a scratch prefix, run from a directory that has nothing of fleet's.

import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve, sep } from 'node:path';

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function run(command: string, args: readonly string[], options: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs?: number }): Promise<Run> {
  return new Promise((done, fail) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
    child.on('error', fail);
    child.on('close', (code) => {
      clearTimeout(timer);
      done({ code, stdout, stderr });
    });
  });
}

/**
 * The environment for npm: ours, less what `npm test` adds about this checkout (its prefix, its
 * package), which would point the child npm back at the repository.
 */
function npmEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const key of Object.keys(env)) {
    if (/^npm_(package_|lifecycle_|command$|config_(local_prefix|prefix|global_prefix)$)/i.test(key) || key === 'INIT_CWD') delete env[key];
  }
  return env;
}

/** What an operator's shell has: no FLEET_* variables, no AWS endpoints. */
function operatorEnv(): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', AWS_EC2_METADATA_DISABLED: 'true' };
}

const tail = (r: Run) => `exit ${r.code}\n${r.stderr.slice(-3000)}`;

// Network trouble reaching the registry for package metadata: not the package's fault.
const OFFLINE = /ENOTCACHED|ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT/;

describe('cli: the npm package, installed globally', function () {
  // Packing builds dist/ from scratch with tsc, then npm installs the dependencies from its cache.
  this.timeout(300_000);

  let scratch: string;
  let prefix: string;
  let elsewhere: string;
  let packed: string[];

  before(async function () {
    scratch = mkdtempSync(join(tmpdir(), 'fleet-package-'));
    const source = join(scratch, 'source');
    // A clean copy of the project, as a fresh clone has it: no dist/, no tarballs, no state.
    const root = resolve('.');
    const skip = new Set(['node_modules', 'dist', '.git', '.state'].map((d) => join(root, d)));
    cpSync(root, source, { recursive: true, filter: (from) => !skip.has(from) && !from.endsWith('.tgz') });
    // The dependencies `npm ci` installed serve the build (tsc, @types).
    symlinkSync(join(root, 'node_modules'), join(source, 'node_modules'), 'dir');

    const pack = await run('npm', ['pack', '--json', '--pack-destination', scratch], { cwd: source, env: npmEnv() });
    expect(pack.code, `npm pack failed: ${tail(pack)}`).to.equal(0);
    const [info] = JSON.parse(pack.stdout) as { filename: string; files: { path: string }[] }[];
    if (info === undefined) throw new Error(`npm pack printed no package: ${pack.stdout}`);
    packed = info.files.map((f) => f.path);

    prefix = join(scratch, 'prefix');
    // --prefer-offline: the tarballs come from the cache `npm ci` filled. npm still needs the
    // registry's package metadata once to resolve the dependency ranges, which `npm ci` (working
    // from the lockfile) never fetched.
    const install = await run(
      'npm',
      [
        'install',
        '--global',
        '--prefix',
        prefix,
        '--prefer-offline',
        '--no-audit',
        '--no-fund',
        '--no-update-notifier',
        join(scratch, info.filename),
      ],
      { cwd: scratch, env: npmEnv() },
    );
    if (install.code !== 0 && OFFLINE.test(install.stderr) && process.env.CI !== 'true') {
      console.log(
        `    skipping "${this.test?.parent?.fullTitle() ?? 'package'}": the npm registry cannot be reached to resolve dependencies (${OFFLINE.exec(install.stderr)?.[0]})`,
      );
      this.skip();
    }
    expect(install.code, `npm install -g failed: ${tail(install)}`).to.equal(0);
    elsewhere = mkdtempSync(join(tmpdir(), 'fleet-elsewhere-'));
  });

  after(() => {
    for (const dir of [scratch, elsewhere]) if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const fleet = (args: readonly string[]) => run(join(prefix, 'bin', 'fleet'), args, { cwd: elsewhere, env: operatorEnv() });

  it('ships the built CLI, the default config and the example policies; no sources, tests or source maps', () => {
    expect(packed).to.include.members([
      'package.json',
      'README.md',
      'dist/cli/main.js',
      'config/default.json',
      'policies/bld-linux64.json',
      'policies/tst-linux64.json',
      'policies/try-linux64.json',
      'policies/iam/fleet-service.json',
    ]);
    const unwanted = packed.filter(
      (p) =>
        /^(src|test|bench|deploy|\.ci)\//.test(p) || p.endsWith('.map') || p.endsWith('.ts') || /^tsconfig/.test(p) || p === 'Dockerfile',
    );
    expect(unwanted).to.deep.equal([]);
  });

  it('ships no test harness: no soak, judge or invariant checker in dist/', () => {
    expect(packed.filter((p) => /(^|\/)(soak|judge|invariants?)([./]|$)/.test(p))).to.deep.equal([]);
  });

  it('installs a `fleet` bin that prints its help from any directory', async () => {
    const r = await fleet(['--help']);
    expect(r.code, tail(r)).to.equal(0);
    expect(r.stdout).to.match(/^Usage: fleet /m);
    for (const command of ['reconcile', 'plan', 'status', 'drain', 'sim', 'config'])
      expect(r.stdout).to.match(new RegExp(`^  ${command}\\b`, 'm'));
  });

  it('reads the config and the example policies from the install, not the working directory', async () => {
    const r = await fleet(['config', 'check', '--json']);
    expect(r.code, tail(r)).to.equal(0);
    const effective = JSON.parse(r.stdout) as { config: { fleet: string; policies: string }; policies: { pool: string }[] };
    expect(effective.config.fleet).to.equal('releng');
    const installed = realpathSync(join(prefix, 'lib', 'node_modules', 'fleet'));
    const policies = realpathSync(effective.config.policies);
    expect(relative(installed, policies)).to.equal('policies');
    expect(policies.startsWith(realpathSync(elsewhere) + sep)).to.equal(false);
    expect(effective.policies.map((p) => p.pool).sort()).to.deep.equal(['bld-linux64', 'try-linux64', 'tst-linux64']);
  });

  it('runs a simulated hour of the example pools', async () => {
    const r = await fleet(['sim', '--hours', '1']);
    expect(r.code, tail(r)).to.equal(0);
    expect(r.stdout).to.match(/^Simulated .* \(seed 42\): 60 cycles, 0 failed\./m);
    for (const pool of ['bld-linux64', 'tst-linux64', 'try-linux64']) expect(r.stdout).to.match(new RegExp(`^${pool} +\\d+`, 'm'));
    expect(r.stdout).to.match(/^Spot share: /m);
    expect(r.stdout).to.include('CreateNetworkInterface: 0');
  });
});
