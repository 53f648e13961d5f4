/** Control characters (newlines, ESC of ANSI sequences, C1) and the bidirectional overrides. */
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/**
 * One line of text as it may reach a terminal or a file: tag values and names come from the cloud
 * and may carry a newline (a forged extra line) or an escape sequence, each shown as "?".
 */
export function printable(text: string): string {
  return text.replace(UNPRINTABLE, '?');
}

/** Render rows as aligned columns; numbers are right-aligned. Every cell is made printable. */
export function table(headers: readonly string[], rows: readonly (readonly (string | number | null | undefined)[])[]): string {
  const cells = rows.map((r) => r.map((c) => (c === null || c === undefined ? '-' : printable(String(c)))));
  const widths = headers.map((h, n) => Math.max(h.length, ...cells.map((r) => (r[n] ?? '').length)));
  const numeric = headers.map(
    (_, n) => rows.length > 0 && rows.every((r) => typeof r[n] === 'number' || r[n] === null || r[n] === undefined),
  );
  const line = (r: readonly string[]) =>
    r
      .map((c, n) => (numeric[n] ? c.padStart(widths[n] ?? 0) : c.padEnd(widths[n] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(headers), ...cells.map(line)].join('\n');
}

export function formatAge(seconds: number): string {
  if (seconds < 60) return `${seconds}s`;
  const m = Math.floor(seconds / 60);
  if (m < 60) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h${String(m % 60).padStart(2, '0')}m`;
  return `${Math.floor(h / 24)}d${String(h % 24).padStart(2, '0')}h`;
}

export function formatPrice(price: number | null | undefined): string {
  return price === null || price === undefined ? '-' : `$${price.toFixed(4)}`;
}
