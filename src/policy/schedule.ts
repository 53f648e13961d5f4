import { Cron } from 'croner';
import type { ScheduleWindow } from '../domain/policy.js';

function cronOf(window: Pick<ScheduleWindow, 'cron' | 'timezone'>): Cron {
  // paused: the library is used only to compute times, never to run anything.
  return new Cron(window.cron, { timezone: window.timezone, paused: true });
}

/** Why a window cannot be used (bad cron expression or time zone), or undefined. */
export function scheduleProblem(window: Pick<ScheduleWindow, 'cron' | 'timezone'>): string | undefined {
  try {
    cronOf(window).nextRun(new Date(0));
    return undefined;
  } catch (e) {
    return (e as Error).message.split('. ')[0]?.replace(/^Cron\w*: /, '');
  }
}

/** Whether `atMs` falls inside the window: after one of its cron starts and before that start plus its duration. */
export function inWindow(window: ScheduleWindow, atMs: number): boolean {
  const cron = cronOf(window);
  // The last start at or before now (a start exactly now counts).
  const last = cron.previousRuns(1, new Date(atMs + 1))[0];
  return last !== undefined && atMs < last.getTime() + window.durationSeconds * 1000;
}

/** The largest `min` of the windows open at `atMs` (0 when none is open). */
export function scheduledMinimum(windows: readonly ScheduleWindow[], atMs: number): number {
  let minimum = 0;
  for (const window of windows) if (window.min > minimum && inWindow(window, atMs)) minimum = window.min;
  return minimum;
}
