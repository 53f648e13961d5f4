// A small Dockerfile reader for tests: instructions with their arguments, grouped by build stage.
// It knows what the image's tests need (line continuations, comments, JSON and shell forms), not
// every corner of BuildKit's syntax (heredocs, parser directives other than comments).

export interface Instruction {
  /** upper case: FROM, RUN, COPY, ... */
  readonly keyword: string;
  /** the rest of the instruction, continuations joined */
  readonly args: string;
  /** 1-based line where the instruction starts */
  readonly line: number;
}

export interface Stage {
  readonly from: string;
  readonly name: string | undefined;
  readonly instructions: readonly Instruction[];
}

export function parseDockerfile(text: string): Instruction[] {
  const instructions: Instruction[] = [];
  let pending: { text: string; line: number } | undefined;
  text.split('\n').forEach((raw, index) => {
    const trimmed = raw.trim();
    // Comment lines are dropped, also inside a continued instruction (as Docker does).
    if (trimmed.startsWith('#') || (trimmed === '' && pending === undefined)) return;
    const continued = trimmed.endsWith('\\');
    const part = continued ? trimmed.slice(0, -1).trim() : trimmed;
    pending = pending === undefined ? { text: part, line: index + 1 } : { text: `${pending.text} ${part}`.trim(), line: pending.line };
    if (continued) return;
    const match = /^(\S+)\s*(.*)$/s.exec(pending.text);
    if (match) instructions.push({ keyword: (match[1] as string).toUpperCase(), args: (match[2] as string).trim(), line: pending.line });
    pending = undefined;
  });
  if (pending !== undefined) throw new Error(`line ${pending.line}: the instruction ends in a line continuation`);
  return instructions;
}

export function stages(instructions: readonly Instruction[]): Stage[] {
  const result: { from: string; name: string | undefined; instructions: Instruction[] }[] = [];
  for (const i of instructions) {
    if (i.keyword === 'FROM') {
      const [from, as, name] = i.args.split(/\s+/).filter((w) => !w.startsWith('--'));
      result.push({ from: from as string, name: as?.toUpperCase() === 'AS' ? name : undefined, instructions: [] });
    } else {
      const current = result[result.length - 1];
      if (current === undefined) {
        if (i.keyword !== 'ARG') throw new Error(`line ${i.line}: ${i.keyword} before the first FROM`);
        continue;
      }
      current.instructions.push(i);
    }
  }
  return result;
}

/** The JSON (exec) form of ENTRYPOINT, CMD, HEALTHCHECK CMD; undefined for the shell form. */
export function execForm(args: string): string[] | undefined {
  if (!args.startsWith('[')) return undefined;
  const parsed: unknown = JSON.parse(args);
  if (!Array.isArray(parsed) || !parsed.every((a) => typeof a === 'string')) throw new Error(`not a JSON array of strings: ${args}`);
  return parsed;
}
