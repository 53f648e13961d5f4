// The benches' command-line flags: `--name VALUE`, absent or well formed, else one line naming the flag.

/** The whole number after `name`, 1 or more; undefined when the flag is absent. */
export function wholeFlag(name: string): number | undefined {
  const at = process.argv.indexOf(name);
  if (at < 0) return undefined;
  const value = Number(process.argv[at + 1]);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name}: expected a positive whole number`);
  return value;
}

/** The value after `name` on the command line; undefined when the flag is absent, an error when its value is. */
export function textFlag(name: string, expected: string): string | undefined {
  const at = process.argv.indexOf(name);
  if (at < 0) return undefined;
  const value = process.argv[at + 1];
  if (!value) throw new Error(`${name}: expected ${expected}`);
  return value;
}

/** Read the flags with `read`; a bad one is one line on stderr and exit 2 (usage). */
export function flagsOrExit<T>(read: () => T): T {
  try {
    return read();
  } catch (e) {
    console.error(e instanceof Error ? e.message : String(e));
    process.exit(2);
  }
}
