// The one size cap on a document read from anywhere (S3, the simulated S3, HTTPS, a file, the state
// store): a document over it is refused, never parsed or kept, and not read past the cap.

export const TOO_LARGE = 'TooLarge';

/** The error for a document over its cap (code `TooLarge`); the message names the cap, never the content. */
export function tooLarge(maxBytes: number): Error {
  return Object.assign(new Error(`larger than the ${formatBytes(maxBytes)} cap`), { name: TOO_LARGE });
}

export function formatBytes(bytes: number): string {
  return bytes % (1024 * 1024) === 0 ? `${bytes / (1024 * 1024)} MiB` : bytes % 1024 === 0 ? `${bytes / 1024} KiB` : `${bytes} bytes`;
}

/** Throws tooLarge when `bytes` is over `maxBytes` (undefined: no cap). */
export function refuseOverCap(bytes: number, maxBytes: number | undefined): void {
  if (maxBytes !== undefined && bytes > maxBytes) throw tooLarge(maxBytes);
}

/** A body's text, refused as soon as it grows past `maxBytes`: leaving the loop early cancels the stream, so the rest is never read. */
export async function cappedText(chunks: AsyncIterable<Uint8Array>, maxBytes: number): Promise<string> {
  const read: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of chunks) {
    total += chunk.byteLength;
    refuseOverCap(total, maxBytes);
    read.push(chunk);
  }
  return Buffer.concat(read).toString('utf8');
}
