import { spawn } from 'node:child_process';

export interface HookResult {
  /** the hook's exit status; null when it was ended by a signal */
  readonly exitCode: number | null;
  readonly signal: string | null;
  readonly seconds: number;
  /** the deadline came first: the hook was stopped */
  readonly timedOut: boolean;
}

/** How long a hook stopped at its deadline gets between SIGTERM and SIGKILL. */
const KILL_AFTER_MS = 10_000;

/**
 * Run the operator's hook (a shell command that stops the CI agent gracefully) and wait until it
 * returns or `timeoutMs` passes, whichever is first: the worker leaves either way. Its output goes
 * to stderr: stdout carries only `fleet worker`'s own line.
 */
export function runHook(command: string, env: NodeJS.ProcessEnv, timeoutMs: number): Promise<HookResult> {
  const started = performance.now();
  return new Promise((resolve) => {
    const child = spawn('/bin/sh', ['-c', command], { env, stdio: ['ignore', process.stderr, process.stderr] });
    let timedOut = false;
    let killer: NodeJS.Timeout | undefined;
    const timer = setTimeout(
      () => {
        timedOut = true;
        child.kill('SIGTERM');
        killer = setTimeout(() => child.kill('SIGKILL'), KILL_AFTER_MS);
      },
      Math.max(0, timeoutMs),
    );
    const done = (exitCode: number | null, signal: string | null) => {
      clearTimeout(timer);
      if (killer) clearTimeout(killer);
      resolve({ exitCode, signal, seconds: Math.round((performance.now() - started) / 1000), timedOut });
    };
    child.on('error', () => done(127, null));
    child.on('exit', (code, signal) => done(code, signal));
  });
}
