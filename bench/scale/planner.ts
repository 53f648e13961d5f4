// The planner at scale: applyGuard then plan(), as the service runs them, over generated snapshots of
// 1k to 100k instances (bench/scale/snapshot.ts). Wall-clock time on this machine and V8 heap figures:
// a bench, not a test. It times the compiled planner (../compiled-planner.ts: `npm run build` first).
// Run it in a process started with --expose-gc (bench/scale/index.ts does):
//   node --expose-gc --import tsx bench/scale/planner.ts [sizes]      prints the figures as JSON
// For a CPU profile of the largest size:
//   node --expose-gc --cpu-prof --cpu-prof-dir=/tmp/prof --import tsx bench/scale/planner.ts 100000

import { PerformanceObserver, performance } from 'node:perf_hooks';
import { WARM_UP_RUNS, applyGuard, plan } from '../compiled-planner.js';
import { scaleWorld } from './snapshot.js';

export const PLANNER_SIZES = [1_000, 10_000, 50_000, 100_000];
/** Timed runs per size (after WARM_UP_RUNS untimed ones): more where a run is quick. */
const RUNS: Readonly<Record<number, number>> = { 1_000: 21, 10_000: 11, 50_000: 7, 100_000: 5 };

const gc = (globalThis as { gc?: () => void }).gc;
const MB = 1024 * 1024;

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

/** A full collection, twice: the second catches what the first only made collectable. */
function collect(): void {
  gc?.();
  gc?.();
}

function round(n: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

/** Collections V8 ran while `work` ran (the observer reports them asynchronously). */
async function countingGcs<T>(work: () => T): Promise<{ result: T; gcs: number }> {
  let gcs = 0;
  let open = true;
  const observer = new PerformanceObserver((list) => {
    if (open) gcs += list.getEntries().length;
  });
  observer.observe({ entryTypes: ['gc'] });
  const result = work();
  await new Promise((resolve) => setTimeout(resolve, 100));
  open = false;
  observer.disconnect();
  return { result, gcs };
}

type World = ReturnType<typeof scaleWorld>;

/** One cycle's planning, as the service does it: the launch guard, then plan(). */
function planCycle(world: World) {
  const guarded = applyGuard(world.snapshot, world.policies);
  return plan(guarded.snapshot, world.policies, 'bench');
}

/** Timed runs (after the caller's warm-up): the guard and plan() apart. */
function timeRuns(world: World, runs: number): { guardMs: number[]; planMs: number[] } {
  const guardMs: number[] = [];
  const planMs: number[] = [];
  for (let k = 0; k < runs; k++) {
    const t0 = performance.now();
    const guarded = applyGuard(world.snapshot, world.policies);
    const t1 = performance.now();
    plan(guarded.snapshot, world.policies, 'bench');
    planMs.push(performance.now() - t1);
    guardMs.push(t1 - t0);
  }
  return { guardMs, planMs };
}

/**
 * Heap around one call: collected before it, read right after it (the garbage it made still
 * counted), then collected again with its plan still held. V8 collects during the call too
 * (`gcsDuringCall`), so the growth is a floor of the peak; the process's peak resident set is given
 * beside it. Its own function, so no stale reference of the timed runs is on the stack.
 */
async function heapAround(world: World): Promise<{ before: number; growth: number; retained: number; gcs: number; actions: number }> {
  collect();
  const before = process.memoryUsage().heapUsed;
  const { result, gcs } = await countingGcs(() => {
    const held = planCycle(world);
    return { held, after: process.memoryUsage().heapUsed };
  });
  collect();
  const retained = process.memoryUsage().heapUsed - before;
  return { before, growth: result.after - before, retained, gcs, actions: result.held.actions.length };
}

export async function measurePlanner(sizes: readonly number[] = PLANNER_SIZES): Promise<Record<string, unknown>> {
  if (!gc) throw new Error('bench/scale/planner.ts needs node --expose-gc');
  const rows: Record<string, unknown>[] = [];
  for (const size of sizes) {
    collect();
    const bare = process.memoryUsage().heapUsed;
    const world = scaleWorld(size);
    collect();
    const snapshotMb = (process.memoryUsage().heapUsed - bare) / MB;
    const actions = planCycle(world).actions;
    for (let k = 1; k < WARM_UP_RUNS; k++) planCycle(world);
    const { guardMs, planMs } = timeRuns(world, RUNS[size] ?? 5);
    const totalMs = guardMs.map((g, k) => g + (planMs[k] as number));
    const heap = await heapAround(world);
    rows.push({
      instances: world.counts.instances,
      pools: world.policies.length,
      regions: world.snapshot.regions.length,
      snapshot: world.counts,
      actions: actions.length,
      launches: actions.filter((a) => a.kind === 'launch').length,
      runs: totalMs.length,
      medianMs: round(median(totalMs)),
      minMs: round(Math.min(...totalMs)),
      maxMs: round(Math.max(...totalMs)),
      guardMedianMs: round(median(guardMs)),
      planMedianMs: round(median(planMs)),
      nsPerInstance: Math.round((median(totalMs) * 1e6) / world.counts.instances),
      snapshotHeapMb: round(snapshotMb),
      heapBeforeCallMb: round(heap.before / MB),
      heapGrowthDuringCallMb: round(heap.growth / MB),
      gcsDuringCall: heap.gcs,
      heapRetainedByPlanMb: round(heap.retained / MB, 2),
      processPeakRssMb: round(process.resourceUsage().maxRSS / 1024),
    });
  }
  return {
    what: 'applyGuard + plan(), compiled (dist/), over one generated snapshot (100 pools × 3 regions, 3 or 4 images per pool and region, outdated, drained and ended instances, pending launches, replacement pairs, a spot price for every offer); wall-clock and V8 heap on this machine',
    rows,
  };
}

/**
 * What one call allocates in all, most of it short-lived: run in a process whose young generation is
 * large enough (--min-semi-space-size, --max-semi-space-size) that V8 need not collect during the call.
 */
export async function measureAllocation(sizes: readonly number[] = PLANNER_SIZES): Promise<Record<string, unknown>> {
  if (!gc) throw new Error('bench/scale/planner.ts needs node --expose-gc');
  const rows: Record<string, unknown>[] = [];
  for (const size of sizes) {
    const world = scaleWorld(size);
    planCycle(world);
    const heap = await heapAround(world);
    rows.push({ instances: world.counts.instances, allocatedMb: round(heap.growth / MB), gcsDuringCall: heap.gcs });
  }
  return { rows };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const allocation = process.argv.includes('--allocation');
  const listed = process.argv.slice(2).find((a) => /^\d/.test(a));
  const sizes = listed ? listed.split(',').map(Number) : PLANNER_SIZES;
  console.log(JSON.stringify(allocation ? await measureAllocation(sizes) : await measurePlanner(sizes)));
}
