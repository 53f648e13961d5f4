// The EC2 events figure: unmet worker-minutes of one simulated day with two capacity crunches,
// without and with `--events` (`fleet sim --hours 24 --crunches 2 --json [--events]`, seed 42, the
// built CLI with its default config). Simulated, not AWS. Part of `npm run bench`; alone,
// `npm run bench:events` measures it and writes it into bench/results/figures.json (key `events`),
// leaving the other figures as they are.

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { simJson } from './sim-cli.js';

const RESULTS = new URL('./results/figures.json', import.meta.url);
export const EVENTS_COMMAND = 'fleet sim --hours 24 --crunches 2 --json';

interface Run {
  readonly unmetWorkerMinutes: number;
  readonly unmetShare: number;
  readonly interruptions: number;
  readonly cycles: number;
  readonly cost: number;
}

async function sim(events: boolean): Promise<Run> {
  const s = await simJson<Run>(['sim', '--hours', '24', '--crunches', '2', '--json', ...(events ? ['--events'] : [])]);
  return {
    unmetWorkerMinutes: s.unmetWorkerMinutes,
    unmetShare: s.unmetShare,
    interruptions: s.interruptions,
    cycles: s.cycles,
    cost: s.cost,
  };
}

/** Both runs (in parallel: they are independent processes). */
export async function measureEvents(): Promise<Record<string, unknown>> {
  const [without, withEvents] = await Promise.all([sim(false), sim(true)]);
  const saved = without.unmetWorkerMinutes - withEvents.unmetWorkerMinutes;
  return {
    command: `${EVENTS_COMMAND} [--events]`,
    without,
    with: withEvents,
    unmetWorkerMinutesSaved: Math.round(saved * 10) / 10,
    unmetReduction: without.unmetWorkerMinutes > 0 ? Math.round((saved / without.unmetWorkerMinutes) * 1000) / 1000 : 0,
  };
}

export function eventsLine(f: Record<string, unknown>): string {
  const w = f.without as Run;
  const e = f.with as Run;
  return `events: unmet worker-minutes ${w.unmetWorkerMinutes} without, ${e.unmetWorkerMinutes} with --events (${EVENTS_COMMAND}, seed 42)`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const events = await measureEvents();
  const figures = existsSync(RESULTS) ? (JSON.parse(readFileSync(RESULTS, 'utf8')) as Record<string, unknown>) : {};
  writeFileSync(RESULTS, `${JSON.stringify({ ...figures, events }, null, 2)}\n`);
  console.log(eventsLine(events));
  console.log(`written: ${RESULTS.pathname}`);
}
