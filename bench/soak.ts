// npm run soak: a chaos soak of the whole reconciler on the simulated cloud (see docs/soak.md).
// Many seeds × many one-minute cycles with every fault the simulator has; the invariants are checked
// after every cycle from the cloud's own view. Prints what was injected and every violation, writes
// the figures to bench/results/soak.json (the default run) or soak-long.json (any other), and exits
// 1 on any violation. Simulated, not AWS.

import { fork } from 'node:child_process';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import type { Clock } from '../src/domain/clock.js';
import { type SeedResult, formatReport, runSoak, soakReport } from '../test/soak/index.js';

const USAGE = 'usage: npm run soak -- [--seeds N] [--from-seed N] [--cycles N] [--jobs N] [--out FILE] [--seed N] [--json] [--log FILE]';
const DEFAULTS = { seeds: 20, fromSeed: 1, cycles: 500 };

interface Args {
  readonly seeds: number;
  readonly fromSeed: number;
  readonly cycles: number;
  readonly jobs: number;
  readonly out?: string;
  readonly seed?: number;
  readonly json: boolean;
  readonly log?: string;
}

function parseArgs(argv: readonly string[]): Args {
  const out: { -readonly [K in keyof Args]: Args[K] } = { ...DEFAULTS, jobs: 1, json: false };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i] as string;
    const value = () => {
      const v = argv[++i];
      if (v === undefined) fail(`${flag}: expected a value`);
      return v;
    };
    const count = (min: number) => {
      const v = value();
      if (!/^\d+$/.test(v) || Number(v) < min) fail(`${flag}: expected a whole number ≥ ${min} (got ${JSON.stringify(v)})`);
      return Number(v);
    };
    if (flag === '--seeds') out.seeds = count(1);
    else if (flag === '--from-seed') out.fromSeed = count(0);
    else if (flag === '--cycles') out.cycles = count(1);
    else if (flag === '--jobs') out.jobs = count(1);
    else if (flag === '--out') out.out = value();
    else if (flag === '--seed') out.seed = count(0);
    else if (flag === '--json') out.json = true;
    else if (flag === '--log') out.log = value();
    else if (flag === '--help' || flag === '-h') {
      process.stdout.write(`${USAGE}\n`);
      process.exit(0);
    } else fail(`unknown option ${JSON.stringify(flag)}`);
  }
  if (out.log !== undefined && out.jobs > 1) fail('--log: fleet’s logs are written by one process; use --jobs 1');
  return out;
}

function fail(message: string): never {
  process.stderr.write(`soak: ${message}\n${USAGE}\n`);
  process.exit(2);
}

/** fleet's own logs for a replay, stamped with the simulated time. */
function fileLogger(path: string): (clock: Clock) => pino.Logger {
  const destination = pino.destination({ dest: path, sync: true, append: false });
  return (clock) =>
    pino({ level: 'debug', base: undefined, timestamp: () => `,"simTime":"${new Date(clock.now()).toISOString()}"` }, destination);
}

/** The seeds over `jobs` child processes (one seed's cycles are one thread's work), each handed the next seed as it finishes one. */
async function inProcesses(seeds: readonly number[], cycles: number, jobs: number, onSeed: (r: SeedResult) => void): Promise<SeedResult[]> {
  const queue = [...seeds];
  const results: SeedResult[] = [];
  const child = () =>
    new Promise<void>((resolve, reject) => {
      const worker = fork(fileURLToPath(new URL('./soak-worker.ts', import.meta.url)), [String(cycles)], { execArgv: ['--import', 'tsx'] });
      worker.on('message', (m: SeedResult | 'ready') => {
        if (m !== 'ready') {
          results.push(m);
          onSeed(m);
        }
        worker.send(queue.shift() ?? -1);
      });
      worker.on('error', reject);
      worker.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`soak worker exited with code ${code}`))));
    });
  await Promise.all(Array.from({ length: Math.min(jobs, seeds.length) }, child));
  return results.sort((a, b) => a.seed - b.seed);
}

const args = parseArgs(process.argv.slice(2));
const replay = args.seed !== undefined;
const seeds = replay ? [args.seed] : Array.from({ length: args.seeds }, (_, n) => n + args.fromSeed);
const isDefault = args.seeds === DEFAULTS.seeds && args.fromSeed === DEFAULTS.fromSeed && args.cycles === DEFAULTS.cycles;
const results = new URL(
  args.out ?? `./results/${isDefault ? 'soak.json' : 'soak-long.json'}`,
  args.out ? `file://${process.cwd()}/` : import.meta.url,
);
const command = `npm run soak -- --seeds ${args.seeds}${args.fromSeed !== DEFAULTS.fromSeed ? ` --from-seed ${args.fromSeed}` : ''} --cycles ${args.cycles}${args.jobs > 1 ? ` --jobs ${args.jobs}` : ''}`;
const machine = `Node ${process.versions.node}, ${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}`;
const began = performance.now();
const done: SeedResult[] = [];

/** The figures so far (`complete: false` while seeds are still running), written whole through a temporary file. */
function writeFigures(complete: boolean): void {
  mkdirSync(new URL('.', results), { recursive: true });
  const report = soakReport(
    [...done].sort((a, b) => a.seed - b.seed),
    args.cycles,
  );
  const wallSeconds = Math.round((performance.now() - began) / 100) / 10;
  const tmp = new URL(`${results.href}.tmp`);
  writeFileSync(tmp, `${JSON.stringify({ command, machine, complete, seedsPlanned: seeds.length, wallSeconds, ...report }, null, 2)}\n`);
  renameSync(tmp, results);
}

const onSeed = (r: SeedResult) => {
  done.push(r);
  if (!args.json) {
    const elapsed = (performance.now() - began) / 1000;
    const eta = (elapsed / done.length) * (seeds.length - done.length);
    process.stderr.write(
      `seed ${r.seed} (${done.length}/${seeds.length}): ${r.violations.length} violations in ${(r.durationMs / 1000).toFixed(1)} s; ${Math.round(elapsed)} s so far, ~${Math.round(eta)} s to go\n`,
    );
    for (const v of r.violations) process.stderr.write(`  cycle ${v.cycle} ${v.invariant}: ${v.detail}\n`);
  }
  // A long run keeps its figures so far on disk: a run cut short still tells what it found.
  if (!replay && !isDefault && done.length % 10 === 0) writeFigures(false);
};
// Stopped early (SIGINT, SIGTERM), a long run writes what it has: the figures of the seeds done.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (!replay) writeFigures(false);
    process.stderr.write(
      `soak: stopped by ${signal} after ${done.length} of ${seeds.length} seeds; figures so far in ${fileURLToPath(results)}\n`,
    );
    process.exit(130);
  });
}
const all =
  args.jobs > 1 && !replay
    ? await inProcesses(seeds, args.cycles, args.jobs, onSeed)
    : await runSoak({ seeds, cycles: args.cycles, ...(args.log ? { log: fileLogger(args.log) } : {}), onSeed });
const report = soakReport(all, args.cycles);
process.stdout.write(args.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
// A replay of one seed is for looking closer; the figures file keeps the full run's.
if (!replay) writeFigures(true);
process.exit(report.violations.length > 0 ? 1 : 0);
