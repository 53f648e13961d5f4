// npm run soak: a chaos soak of the whole reconciler on the simulated cloud (see docs/soak.md).
// Many seeds × many one-minute cycles with every fault the simulator has; the invariants are checked
// after every cycle from the cloud's own view. Prints what was injected and every violation, writes
// the figures to bench/results/soak.json, and exits 1 on any violation. Simulated, not AWS.

import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { pino } from 'pino';
import type { Clock } from '../src/domain/clock.js';
import { formatReport, runSoak, soakReport } from '../src/sim/soak/index.js';

const RESULTS = new URL('./results/soak.json', import.meta.url);
const USAGE = 'usage: npm run soak -- [--seeds N] [--cycles N] [--seed N] [--json] [--log FILE]';

interface Args {
  readonly seeds: number;
  readonly cycles: number;
  readonly seed?: number;
  readonly json: boolean;
  readonly log?: string;
}

function parseArgs(argv: readonly string[]): Args {
  const out: { seeds: number; cycles: number; seed?: number; json: boolean; log?: string } = { seeds: 20, cycles: 500, json: false };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i] as string;
    const value = () => {
      const v = argv[++i];
      if (v === undefined) fail(`${flag}: expected a value`);
      return v as string;
    };
    const count = (min: number) => {
      const v = value();
      if (!/^\d+$/.test(v) || Number(v) < min) fail(`${flag}: expected a whole number ≥ ${min} (got ${JSON.stringify(v)})`);
      return Number(v);
    };
    if (flag === '--seeds') out.seeds = count(1);
    else if (flag === '--cycles') out.cycles = count(1);
    else if (flag === '--seed') out.seed = count(0);
    else if (flag === '--json') out.json = true;
    else if (flag === '--log') out.log = value();
    else if (flag === '--help' || flag === '-h') {
      process.stdout.write(`${USAGE}\n`);
      process.exit(0);
    } else fail(`unknown option ${JSON.stringify(flag)}`);
  }
  return out;
}

function fail(message: string): never {
  process.stderr.write(`soak: ${message}\n${USAGE}\n`);
  process.exit(2);
}

/** fleet's own logs for a replay, stamped with the simulated time. */
function fileLogger(path: string): (clock: Clock) => pino.Logger {
  const destination = pino.destination({ dest: path, sync: true, append: false });
  return (clock) => pino({ level: 'debug', base: undefined, timestamp: () => `,"simTime":"${new Date(clock.now()).toISOString()}"` }, destination);
}

const args = parseArgs(process.argv.slice(2));
const seeds = args.seed !== undefined ? [args.seed] : Array.from({ length: args.seeds }, (_, n) => n + 1);
const results = await runSoak({
  seeds,
  cycles: args.cycles,
  ...(args.log ? { log: fileLogger(args.log) } : {}),
  onSeed: (r) => {
    if (!args.json) process.stderr.write(`seed ${r.seed}: ${r.violations.length} violations in ${(r.durationMs / 1000).toFixed(1)} s\n`);
  },
});
const report = soakReport(results, args.cycles);
process.stdout.write(args.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
// A replay of one seed is for looking closer; the figures file keeps the full run's.
if (args.seed === undefined) {
  mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
  const machine = `Node ${process.versions.node}, ${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}`;
  writeFileSync(RESULTS, `${JSON.stringify({ command: `npm run soak -- --seeds ${args.seeds} --cycles ${args.cycles}`, machine, ...report }, null, 2)}\n`);
}
process.exit(report.violations.length > 0 ? 1 : 0);
