// What the benches share: `fleet sim` through the built CLI (dist/, as a user runs it) with its
// `--json` summary parsed, and the results files a bench writes beside each other.

import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const CLI = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));

/** `fleet <args>` (a `sim … --json` command) run by the built CLI; its stdout parsed. */
export async function simJson<T>(args: readonly string[]): Promise<T> {
  const { stdout } = await promisify(execFile)(process.execPath, [CLI, ...args], { maxBuffer: 64 * 1024 * 1024 });
  return JSON.parse(stdout) as T;
}

/** Write `<base>.json` (the figures) and `<base>.md`; returns the Markdown. */
export function writeResults(base: string, figures: unknown, markdown: string): string {
  writeFileSync(`${base}.json`, `${JSON.stringify(figures, null, 1)}\n`);
  writeFileSync(`${base}.md`, markdown);
  return markdown;
}
