// A real Prometheus server for tests: it scrapes a tiny exporter the test serves (gauges the test
// sets), on free loopback ports, with a temp config. Skipped outside CI when prometheus is missing.

import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, until } from './waiting.js';

export interface TestPrometheus {
  readonly url: string;
  /** the exporter's gauges (name{labels} → value text), served as they are at each scrape */
  readonly gauges: Map<string, string>;
  /** waits until Prometheus answers `query` with `value` (a scrape has happened since the change) */
  settle(query: string, value: string): Promise<void>;
}

function installed(): boolean {
  try {
    execFileSync('sh', ['-c', 'command -v prometheus'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export function usePrometheus(suite: Mocha.Suite): () => TestPrometheus {
  let child: ChildProcess | undefined;
  let exporter: Server | undefined;
  let dir: string | undefined;
  let running: TestPrometheus | undefined;

  suite.beforeAll(async function () {
    this.timeout(60_000);
    if (!installed()) {
      if (process.env.CI === 'true')
        throw new Error('prometheus is not installed (apt-get install -y prometheus); it is required when CI=true');
      console.log(`    skipping "${suite.fullTitle()}": prometheus is not installed (apt-get install -y prometheus)`);
      this.skip();
    }
    const gauges = new Map<string, string>();
    exporter = createServer((_, res) => {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
      res.end([...gauges].map(([k, v]) => `${k} ${v}\n`).join(''));
    });
    await new Promise<void>((resolve) => exporter?.listen(0, '127.0.0.1', resolve));
    const exporterPort = (exporter.address() as AddressInfo).port;
    dir = mkdtempSync(join(tmpdir(), 'fleet-prom-'));
    writeFileSync(
      join(dir, 'prometheus.yml'),
      `global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n  - job_name: ci\n    static_configs:\n      - targets: ['127.0.0.1:${exporterPort}']\n`,
    );
    const port = await freePort();
    let stderr = '';
    child = spawn(
      'prometheus',
      [
        `--config.file=${join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
    const url = `http://127.0.0.1:${port}`;
    await until(
      'prometheus ready',
      async () => ((await fetch(`${url}/-/ready`)).ok ? true : undefined),
      30_000,
      () => stderr,
    );
    running = {
      url,
      gauges,
      settle: (query, value) =>
        until(
          `prometheus answers ${query} = ${value}`,
          async () => {
            const r = (await (await fetch(`${url}/api/v1/query?query=${encodeURIComponent(query)}`)).json()) as {
              data?: { result?: { value?: [number, string] }[] };
            };
            return r.data?.result?.[0]?.value?.[1] === value ? true : undefined;
          },
          30_000,
          () => stderr,
        ).then(() => undefined),
    };
  });

  suite.afterAll(async () => {
    if (child && child.exitCode === null) {
      const exited = new Promise((resolve) => child?.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    await new Promise((resolve) => (exporter ? exporter.close(resolve) : resolve(undefined)));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  return () => {
    if (!running) throw new Error('prometheus is not running');
    return running;
  };
}
