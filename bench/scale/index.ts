// The `scale` section of npm run bench: the planner at 1k–100k instances (wall-clock and heap, in
// child processes started with --expose-gc), API calls per steady cycle per region, and 0 → 1,000
// running in one pool on the simulated cloud. Runs alone too (after npm run build): node --import tsx bench/scale/index.ts

import { execFileSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { measureSteadyCalls } from './api.js';
import { measureRamp } from './ramp.js';

const PLANNER = fileURLToPath(new URL('./planner.ts', import.meta.url));

/** bench/scale/planner.ts in a fresh node with these flags; its stdout is one JSON document. */
function plannerChild(flags: readonly string[], args: readonly string[] = []): Record<string, unknown> {
  const out = execFileSync(process.execPath, ['--expose-gc', ...flags, '--import', 'tsx', PLANNER, ...args], {
    encoding: 'utf8',
    maxBuffer: 16 * 1024 * 1024,
  });
  return JSON.parse(out) as Record<string, unknown>;
}

export async function measureScale(): Promise<Record<string, unknown>> {
  const load = loadavg()[0];
  const planner = plannerChild([]);
  // A young generation of 1 GB: nothing is collected during the call, so the heap's growth is what it allocates.
  const allocation = plannerChild(['--min-semi-space-size=1024', '--max-semi-space-size=1024'], ['--allocation']);
  return {
    planner: { ...planner, allocatedPerCall: allocation.rows, loadAverageAtStart: Math.round((load ?? 0) * 100) / 100 },
    steadyCalls: await measureSteadyCalls(),
    rampTo1000: await measureRamp(1500),
    rampTo1000TightCapacity: await measureRamp(400),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(JSON.stringify(await measureScale(), null, 2));
}
