// How long plan() takes at 1k, 10k and 100k instances, on its own: npm run bench:plan
// (node --expose-gc --import tsx bench/plan-time.ts [--sizes 1000,10000,100000] [--runs N] [--out FILE]).
// Wall-clock on this machine over the generated snapshots of bench/scale/snapshot.ts (100 pools ×
// 3 regions) and the CPU time they took; a benchmark, not a test: it writes its figures to
// bench/results/plan-time.json.
// It times the compiled planner (bench/compiled-planner.ts; `npm run bench:plan` builds it first).
// Each row also carries a digest of the plan, so two runs can show they decided the same.

import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import type { Plan } from '../src/plan/plan.js';
import { WARM_UP_RUNS, applyGuard, plan } from './compiled-planner.js';
import { scaleWorld } from './scale/snapshot.js';

const DEFAULT_SIZES = [1_000, 10_000, 100_000];
const DEFAULT_OUT = fileURLToPath(new URL('./results/plan-time.json', import.meta.url));
/** Timed runs per size (--runs, or more where a run is quick). */
const runsFor = (size: number) => Number(option('--runs') ?? 0) || (size <= 10_000 ? 21 : 7);

const gc = (globalThis as { gc?: () => void }).gc;

function option(name: string): string | undefined {
  const at = process.argv.indexOf(name);
  return at >= 0 ? process.argv[at + 1] : undefined;
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

/** A short digest of everything the plan decided (actions, timers, facts, reports). */
function digest(p: Plan): string {
  return createHash('sha256').update(JSON.stringify(p)).digest('hex').slice(0, 16);
}

function measure(size: number) {
  const world = scaleWorld(size);
  // The service plans on the guarded snapshot; the guard itself is not what is timed here.
  const snapshot = applyGuard(world.snapshot, world.policies).snapshot;
  const first = plan(snapshot, world.policies, 'bench');
  for (let k = 1; k < WARM_UP_RUNS; k++) plan(snapshot, world.policies, 'bench');
  const times: number[] = [];
  const cpuTimes: number[] = [];
  for (let k = 0; k < runsFor(size); k++) {
    // A full collection first: what the service's planner meets between two cycles (V8's memory
    // reducer collects an idle process), and what once made it drop its compiled code (src/domain/shapes.ts).
    gc?.();
    const cpu = process.cpuUsage();
    const t = performance.now();
    plan(snapshot, world.policies, 'bench');
    times.push(performance.now() - t);
    const used = process.cpuUsage(cpu);
    cpuTimes.push((used.user + used.system) / 1000);
  }
  return {
    instances: world.counts.instances,
    pools: world.policies.length,
    regions: snapshot.regions.length,
    actions: first.actions.length,
    launches: first.actions.filter((a) => a.kind === 'launch').length,
    planDigest: digest(first),
    runs: times.length,
    medianMs: round(median(times)),
    nsPerInstance: Math.round((median(times) * 1e6) / world.counts.instances),
    minMs: round(Math.min(...times)),
    maxMs: round(Math.max(...times)),
    // CPU time of the process during the call (collector threads included): steadier than wall-clock on a shared machine
    cpuMedianMs: round(median(cpuTimes)),
  };
}

const sizes = option('--sizes')?.split(',').map(Number) ?? DEFAULT_SIZES;
const out = resolve(option('--out') ?? DEFAULT_OUT);
const loadAtStart = loadavg()[0] ?? 0;
const rows = sizes.map(measure);
const figures = {
  command: 'npm run bench:plan',
  what: 'plan() alone, compiled (dist/), over generated snapshots (bench/scale/snapshot.ts: 100 pools × 3 regions, outdated, drained and ended instances, pending launches, replacement pairs); wall-clock on this machine',
  machine: {
    node: process.version,
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    loadAverageAtStart: round(loadAtStart),
    gcBetweenRuns: gc !== undefined,
    warmUpRuns: WARM_UP_RUNS,
  },
  rows,
};
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, `${JSON.stringify(figures, null, 2)}\n`);
for (const r of rows)
  console.log(
    `${r.instances} instances: plan() median ${r.medianMs} ms, ${r.nsPerInstance} ns per instance (min ${r.minMs}, max ${r.maxMs}, ${r.runs} runs; CPU ${r.cpuMedianMs} ms), ${r.actions} actions, digest ${r.planDigest}`,
  );
console.log(`load average at start ${round(loadAtStart)}; written: ${out}`);
