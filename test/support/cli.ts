// Run the built `fleet` binary as an operator would.

import { type ChildProcessByStdio, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Readable } from 'node:stream';

export const BIN = resolve('dist/cli/main.js');

export interface RunResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export function fleet(
  args: readonly string[],
  env: Record<string, string> = {},
  options: { cwd?: string; timeoutMs?: number } = {},
): Promise<RunResult> {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run npm run build first (npm test does)`);
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: options.cwd ?? process.cwd(),
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', AWS_EC2_METADATA_DISABLED: 'true', ...sdkNotice(), ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolvePromise({ code, stdout, stderr });
    });
  });
}

/** A `fleet` process that runs until stopped (reconcile as a service): what it wrote to stderr so far, and its exit. */
export interface Service {
  readonly child: ChildProcessByStdio<null, Readable, Readable>;
  readonly stderr: () => string;
  readonly exited: Promise<number | null>;
}

/**
 * Start `fleet ARGS` with exactly `env`; `command` runs in front of the binary (e.g. a shell that
 * sets a limit, then execs node) [node itself].
 */
export function startService(
  args: readonly string[],
  env: Record<string, string>,
  command: readonly string[] = [process.execPath],
): Service {
  const [program, ...before] = command as [string, ...string[]];
  const child = spawn(program, [...before, BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolvePromise) => child.on('close', resolvePromise));
  return { child, stderr: () => stderr, exited };
}

/** A scratch directory with a config file and a policies directory. */
export function workspace(config: Record<string, unknown>, policies: Record<string, unknown>[]): { dir: string; config: string } {
  const dir = mkdtempSync(join(tmpdir(), 'fleet-cli-'));
  mkdirSync(join(dir, 'policies', 'iam'), { recursive: true });
  writeFileSync(join(dir, 'policies', 'iam', 'fleet.json'), '{"Version": "2012-10-17", "Statement": []}');
  for (const p of policies) writeFileSync(join(dir, 'policies', `${String(p.pool)}.json`), JSON.stringify(p, null, 2));
  const path = join(dir, 'fleet.json');
  writeFileSync(path, JSON.stringify({ policies: 'policies', state: 'state', ...config }, null, 2));
  return { dir, config: path };
}

/**
 * The AWS SDK's notice about Node versions, as the test run has it (setup.ts turns it off under the
 * Node 20 the tests also run on): tests that read stderr line by line read fleet's own lines.
 */
export function sdkNotice(): Record<string, string> {
  const value = process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED;
  return value === undefined ? {} : { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: value };
}
