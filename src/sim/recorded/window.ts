// Which part of a recording a simulation replays: all of it by default, or the window that
// --start and --hours name, which must lie inside the recorded period.

import { InputError } from '../../domain/errors.js';
import type { PriceRecording } from '../../fake-cloud/price-recording.js';

const HOUR_MS = 3600_000;

export interface SimWindow {
  /** epoch ms */
  readonly start: number;
  readonly hours: number;
}

export function replayWindow(recording: Pick<PriceRecording, 'source' | 'from' | 'to'>, start?: number, hours?: number): SimWindow {
  const { from, to } = recording;
  if (to <= from)
    throw new InputError(`${recording.source}: the recorded prices cover a single instant (${iso(from)}), no period to replay`);
  const period = `${iso(from)} → ${iso(to)}`;
  const begin = start ?? from;
  if (begin < from || begin >= to) throw new InputError(`--start ${iso(begin)}: outside the recorded period ${period}`);
  const span = hours ?? (to - begin) / HOUR_MS;
  if (begin + span * HOUR_MS > to) {
    const most = Math.floor((to - begin) / HOUR_MS);
    throw new InputError(`--hours ${hours}: runs past the end of the recorded period ${period} (at most ${most} hours from ${iso(begin)})`);
  }
  return { start: begin, hours: span };
}

function iso(t: number): string {
  return new Date(t).toISOString().replace(/\.000Z$/, 'Z');
}
