import type { Finding } from './types.js';

export interface CycleEnd {
  readonly process: string;
  /** what the cycle threw, if it threw */
  readonly error?: { readonly name: string; readonly code?: string; readonly message: string };
  /** the harness killed the process during the cycle */
  readonly killed: boolean;
  /** the cycle did not run to its end (not the leader, or it stopped on a fault, as it must) */
  readonly stopped?: boolean;
}

/** No exception escapes a cycle, other than the harness's own ProcessKilled (and whatever a dead process hits). */
export function checkCycleErrors(ends: readonly CycleEnd[]): Finding[] {
  return ends
    .filter((e) => e.error !== undefined && !e.killed && e.error.name !== 'ProcessKilled')
    .map((e) => {
      const error = e.error as NonNullable<CycleEnd['error']>;
      return {
        invariant: 'no-escaping-exception',
        key: `${e.process} ${error.name} ${error.code ?? ''}`,
        detail: `${e.process}: ${error.name}${error.code ? ` ${error.code}` : ''}: ${printable(error.message).slice(0, 160)}`,
      };
    });
}

/** Control characters (a garbled document's NUL, newlines) written as escapes, so a detail stays one line. */
function printable(text: string): string {
  return text.replace(/[\u0000-\u001f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
