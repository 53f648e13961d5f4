#!/usr/bin/env node
import { EXIT, main } from './program.js';

main(process.argv.slice(2)).then(
  (code) => exit(code),
  (e: unknown) => {
    process.stderr.write(`fleet: ${String(e)}\n`);
    exit(EXIT.failure);
  },
);

// Exit once output is flushed: idle keep-alive sockets must not hold a finished command open.
function exit(code: number): void {
  process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
}
