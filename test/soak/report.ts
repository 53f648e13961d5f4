// The soak's figures: faults injected, what they did, and violations per invariant, as JSON for
// bench/results/soak.json and as text for a terminal.

import { INVARIANTS } from './invariants/index.js';
import type { SeedResult, Violation } from './run.js';

export interface InvariantFigures {
  readonly description: string;
  /** distinct violations (a condition lasting several cycles counts once) */
  readonly violations: number;
  /** cycles in which it was violated */
  readonly cycles: number;
  /** seeds in which it was violated */
  readonly seeds: number;
  readonly example?: Violation;
}

export interface SoakReport {
  readonly seeds: readonly number[];
  readonly cycles: number;
  readonly durationSeconds: number;
  readonly faults: Readonly<Record<string, number>>;
  readonly effects: Readonly<Record<string, number>>;
  readonly invariants: Readonly<Record<string, InvariantFigures>>;
  readonly violations: readonly Violation[];
}

function sum(into: Record<string, number>, from: Readonly<Record<string, number | undefined>>): void {
  for (const [k, v] of Object.entries(from)) into[k] = (into[k] ?? 0) + (v ?? 0);
}

function sorted(counts: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(counts).sort(([a], [b]) => a.localeCompare(b)));
}

export function soakReport(results: readonly SeedResult[], cycles: number): SoakReport {
  const faults: Record<string, number> = {};
  const effects: Record<string, number> = {};
  for (const r of results) {
    sum(faults, r.injected);
    sum(effects, r.effects);
  }
  const violations = results.flatMap((r) => r.violations);
  const names = [...new Set([...Object.keys(INVARIANTS), ...violations.map((v) => v.invariant)])];
  const invariants = Object.fromEntries(
    names.map((name) => {
      const description = INVARIANTS[name] ?? '';
      const found = violations.filter((v) => v.invariant === name);
      const figures: InvariantFigures = {
        description,
        violations: found.length,
        cycles: results.reduce((n, r) => n + (r.cyclesInViolation[name] ?? 0), 0),
        seeds: new Set(found.map((v) => v.seed)).size,
        ...(found[0] ? { example: found[0] } : {}),
      };
      return [name, figures];
    }),
  );
  return {
    seeds: results.map((r) => r.seed),
    cycles,
    durationSeconds: Math.round(results.reduce((ms, r) => ms + r.durationMs, 0) / 100) / 10,
    faults: sorted(faults),
    effects: sorted(effects),
    invariants,
    violations,
  };
}

export function formatReport(report: SoakReport): string {
  const lines = [`soak: ${report.seeds.length} seeds × ${report.cycles} cycles in ${report.durationSeconds} s`, '', 'faults injected:'];
  for (const [kind, n] of Object.entries(report.faults)) lines.push(`  ${kind.padEnd(24)} ${n}`);
  lines.push('', 'what they did (from the cloud’s logs):');
  for (const [what, n] of Object.entries(report.effects)) lines.push(`  ${what.padEnd(48)} ${n}`);
  lines.push('', 'invariants (violations / cycles in violation / seeds):');
  for (const [name, f] of Object.entries(report.invariants))
    lines.push(
      `  ${f.violations === 0 ? 'ok  ' : 'FAIL'} ${name.padEnd(30)} ${String(f.violations).padStart(5)} ${String(f.cycles).padStart(6)} ${String(f.seeds).padStart(4)}`,
    );
  if (report.violations.length > 0) {
    lines.push('', 'violations:');
    for (const v of report.violations) lines.push(`  seed ${v.seed} cycle ${v.cycle} ${v.invariant}: ${v.detail}`);
  }
  return `${lines.join('\n')}\n`;
}
