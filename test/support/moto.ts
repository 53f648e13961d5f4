import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants as fsConstants } from 'node:fs';
import { createServer } from 'node:net';
import { delimiter, join } from 'node:path';

export interface Moto {
  /** http://127.0.0.1:PORT */
  readonly endpoint: string;
  readonly port: number;
  /** Drop all state held by moto (POST /moto-api/reset). */
  reset(): Promise<void>;
  /** Stop the server: SIGTERM, then SIGKILL if it has not exited after 3 s. */
  stop(): Promise<void>;
}

export interface StartMotoOptions {
  /** Executable to run; defaults to `moto_server` looked up on PATH. */
  readonly command?: string;
}

const DEFAULT_COMMAND = 'moto_server';
const READY_TIMEOUT_MS = 20_000;
const POLL_INTERVAL_MS = 100;
const STOP_GRACE_MS = 3_000;
const STDERR_TAIL_LINES = 20;
/** Exit status a shell or a pyenv shim uses for "command not found". */
const EXIT_COMMAND_NOT_FOUND = 127;

class MotoUnavailable extends Error {}

/**
 * Start moto_server on a free loopback port and wait until it answers.
 * Resolves undefined when moto_server is not installed and CI !== 'true';
 * under CI=true a missing moto_server is an error.
 */
export async function startMoto(options: StartMotoOptions = {}): Promise<Moto | undefined> {
  const command = options.command ?? DEFAULT_COMMAND;
  try {
    if (!isOnPath(command)) throw new MotoUnavailable();
    return await launch(command);
  } catch (err) {
    if (!(err instanceof MotoUnavailable)) throw err;
    if (process.env.CI === 'true') {
      throw new Error(`${command} is not installed (pip install "moto[server]"); it is required when CI=true`);
    }
    return undefined;
  }
}

/**
 * Mocha helper: start moto once for the calling `describe` block and stop it
 * afterwards. When moto_server is missing outside CI, the block is skipped with
 * a printed reason. The returned accessor is only valid inside tests and hooks.
 */
export function useMoto(suite: Mocha.Suite): () => Moto {
  let moto: Moto | undefined;

  suite.beforeAll(async function () {
    this.timeout(READY_TIMEOUT_MS + 10_000);
    moto = await startMoto();
    if (moto === undefined) {
      console.log(`    skipping "${suite.fullTitle()}": moto_server is not installed (pip install "moto[server]")`);
      this.skip();
    }
  });

  suite.afterAll(async function () {
    this.timeout(STOP_GRACE_MS + 5_000);
    await moto?.stop();
    moto = undefined;
  });

  return () => {
    if (moto === undefined) {
      throw new Error('moto is not running: call moto() only inside tests of the suite passed to useMoto');
    }
    return moto;
  };
}

/** The fake credentials moto accepts: never real ones. */
export const MOTO_CREDENTIALS = { accessKeyId: 'testing', secretAccessKey: 'testing' };

/** What an SDK client needs to talk to moto (or a proxy in front of it) at `endpoint`, in us-east-1. */
export function motoClientConfig(endpoint: string) {
  return { region: 'us-east-1', endpoint, credentials: MOTO_CREDENTIALS };
}

/**
 * Environment that points the AWS SDK (and a spawned `fleet` CLI) at moto and
 * keeps it away from real AWS: static fake credentials, no IMDS, and no shared
 * config/credentials files whose profiles could add endpoints or credentials.
 */
export function motoEnv(endpoint: string): Record<string, string> {
  return {
    AWS_ENDPOINT_URL: endpoint,
    // Service-specific endpoint variables win over AWS_ENDPOINT_URL, so pin them too.
    AWS_ENDPOINT_URL_EC2: endpoint,
    AWS_ENDPOINT_URL_S3: endpoint,
    AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: 'false',
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
    AWS_SESSION_TOKEN: 'testing',
    AWS_REGION: 'us-east-1',
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_CONFIG_FILE: '/dev/null',
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    AWS_USE_FIPS_ENDPOINT: 'false',
    AWS_USE_DUALSTACK_ENDPOINT: 'false',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
}

function isOnPath(command: string): boolean {
  const candidates = command.includes('/')
    ? [command]
    : (process.env.PATH ?? '')
        .split(delimiter)
        .filter(Boolean)
        .map((dir) => join(dir, command));
  return candidates.some((file) => {
    try {
      accessSync(file, fsConstants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

async function launch(command: string): Promise<Moto> {
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const child = spawn(command, ['-H', '127.0.0.1', '-p', String(port)], {
    detached: false,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const stderr = new TailBuffer(STDERR_TAIL_LINES);
  // Always drain stderr: moto logs every request there and a full pipe would stall it.
  child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk));

  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));

  // A crashed or interrupted test run must not leave moto behind.
  const killOnExit = (): void => {
    child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);

  try {
    await waitUntilReady(endpoint, child, exited, spawnError, stderr);
  } catch (err) {
    process.removeListener('exit', killOnExit);
    await terminate(child, exited);
    throw err;
  }

  let stopping: Promise<void> | undefined;
  return {
    endpoint,
    port,
    async reset() {
      const res = await fetch(`${endpoint}/moto-api/reset`, { method: 'POST' });
      if (!res.ok) throw new Error(`moto reset failed: HTTP ${res.status} ${await res.text()}`);
    },
    stop() {
      stopping ??= terminate(child, exited).finally(() => process.removeListener('exit', killOnExit));
      return stopping;
    },
  };
}

async function waitUntilReady(
  endpoint: string,
  child: ChildProcess,
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>,
  spawnError: Promise<Error>,
  stderr: TailBuffer,
): Promise<void> {
  let failure: Error | undefined;
  void exited.then(({ code, signal }) => {
    failure ??=
      code === EXIT_COMMAND_NOT_FOUND
        ? new MotoUnavailable()
        : new Error(`moto_server exited before it was ready (code ${code}, signal ${signal})${stderr.describe()}`);
  });
  void spawnError.then((err) => {
    failure ??=
      (err as NodeJS.ErrnoException).code === 'ENOENT' ? new MotoUnavailable() : new Error(`could not start moto_server: ${err.message}`);
  });

  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (failure) throw failure;
    try {
      await fetch(`${endpoint}/moto-api/`, { signal: AbortSignal.timeout(1_000) });
      return; // any HTTP answer means the server is up
    } catch {
      await sleep(POLL_INTERVAL_MS);
    }
  }
  if (failure) throw failure;
  const waited = `${READY_TIMEOUT_MS / 1000} s`;
  throw new Error(`moto_server (pid ${child.pid}) did not answer on ${endpoint} within ${waited}${stderr.describe()}`);
}

async function terminate(child: ChildProcess, exited: Promise<unknown>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  child.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const gaveUp = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), STOP_GRACE_MS);
  });
  const outcome = await Promise.race([exited, gaveUp]);
  clearTimeout(timer);
  if (outcome === 'timeout') {
    child.kill('SIGKILL');
    await exited;
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address !== null && typeof address === 'object') resolve(address.port);
        else reject(new Error('could not determine a free port'));
      });
    });
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Keeps the last few lines of a stream, for error messages. */
class TailBuffer {
  private lines: string[] = [];
  private partial = '';

  constructor(private readonly max: number) {}

  push(chunk: Buffer): void {
    const parts = (this.partial + chunk.toString('utf8')).split('\n');
    this.partial = parts.pop() ?? '';
    this.lines.push(...parts);
    if (this.lines.length > this.max) this.lines.splice(0, this.lines.length - this.max);
  }

  describe(): string {
    const text = [...this.lines, this.partial].filter((line) => line.trim() !== '').join('\n');
    return text === '' ? '' : `; last stderr lines:\n${text}`;
  }
}
