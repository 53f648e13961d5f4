// One of `npm run soak -- --jobs N`'s child processes: runs the seeds it is handed over IPC, one at
// a time, and sends each seed's result back.

import { runSeed } from '../test/soak/index.js';

const cycles = Number(process.argv[2]);
const send = (m: unknown) => (process.send as NonNullable<typeof process.send>)(m);
if (!process.send || !Number.isInteger(cycles))
  throw new Error('soak-worker runs as a child process of bench/soak.ts: soak-worker.ts CYCLES');
process.on('message', (seed: number) => {
  // -1: no seed left
  if (seed < 0) process.disconnect();
  else void runSeed(seed, cycles).then(send);
});
// The parent gone (stopped early), nothing is left to report to.
process.on('disconnect', () => process.exit(0));
send('ready');
