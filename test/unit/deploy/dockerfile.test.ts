// The Dockerfile, read as text: there is no container engine in the test run, so what can be
// checked without one is checked here (base, stages, user, entrypoint, port, health, build context).
import { expect } from 'chai';
import { existsSync, readFileSync } from 'node:fs';
import { execForm, parseDockerfile, stages, type Instruction } from '../../support/dockerfile.js';

const dockerfile = parseDockerfile(readFileSync('Dockerfile', 'utf8'));
const all = stages(dockerfile);
const final = all[all.length - 1];
const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { bin: Record<string, string> };

function last(keyword: string, instructions: readonly Instruction[] = final?.instructions ?? []): Instruction | undefined {
  return [...instructions].reverse().find((i) => i.keyword === keyword);
}

/** COPY sources taken from the build context (not from another stage). */
function contextSources(instructions: readonly Instruction[]): string[] {
  return instructions
    .filter((i) => (i.keyword === 'COPY' || i.keyword === 'ADD') && !/--from=/.test(i.args))
    .flatMap((i) =>
      i.args
        .split(/\s+/)
        .filter((w) => !w.startsWith('--'))
        .slice(0, -1),
    );
}

describe('deploy: Dockerfile', () => {
  it('builds in stages on a Node 20 slim or alpine base', () => {
    expect(all.length).to.be.at.least(2);
    for (const stage of all) expect(stage.from).to.match(/^node:24(\.\d+)*-(bookworm-slim|alpine[\d.]*)(@sha256:[0-9a-f]{64})?$/);
    // The image itself is the last stage, and it is built from the base, not from the build stage.
    expect(all.map((s) => s.name)).not.to.include(final?.from);
  });

  it('runs as a non-root user, by number so that Kubernetes can check runAsNonRoot', () => {
    const user = last('USER');
    expect(user, 'USER in the final stage').not.to.equal(undefined);
    const [uid, gid] = (user as Instruction).args.split(':');
    expect(uid).to.match(/^\d+$/);
    expect(Number(uid)).to.be.greaterThan(0);
    if (gid !== undefined) expect(Number(gid)).to.be.greaterThan(0);
    const entrypoint = last('ENTRYPOINT') as Instruction;
    expect((user as Instruction).line).to.be.lessThan(entrypoint.line);
  });

  it('runs `fleet reconcile` by default, fleet being the package bin on PATH', () => {
    expect(execForm(last('ENTRYPOINT')?.args ?? '')).to.deep.equal(['fleet']);
    expect(execForm(last('CMD')?.args ?? '')).to.deep.equal(['reconcile']);
    const bin = pkg.bin.fleet as string;
    const link = final?.instructions.find((i) => i.keyword === 'RUN' && i.args.includes('/usr/local/bin/fleet'));
    expect(link?.args).to.include(`ln -s /opt/fleet/${bin} /usr/local/bin/fleet`);
    expect(link?.args).to.include(`chmod 0755 ${bin}`);
  });

  it('exposes the default metrics port and checks /healthz on it', () => {
    const defaults = JSON.parse(readFileSync('config/default.json', 'utf8')) as { metrics: { port: number } };
    expect(last('EXPOSE')?.args.split(/\s+/)).to.include(String(defaults.metrics.port));
    const health = last('HEALTHCHECK')?.args ?? '';
    const cmd = execForm(health.replace(/^(--\S+\s+)*CMD\s+/, ''));
    expect(cmd?.[0]).to.equal('node');
    expect(cmd?.join(' ')).to.include('/healthz').and.include(`process.env.FLEET_METRICS_PORT || ${defaults.metrics.port}`);
  });

  it('copies only what exists and what .dockerignore lets into the build context; no sources in the image', () => {
    const allowed = readFileSync('.dockerignore', 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '' && !l.startsWith('#'));
    expect(allowed[0], '.dockerignore starts by leaving everything out').to.equal('*');
    const sources = all.flatMap((s) => contextSources(s.instructions));
    expect(sources).to.include.members(['package.json', 'package-lock.json', 'src', 'config', 'policies']);
    for (const source of sources) {
      expect(existsSync(source), `${source} exists`).to.equal(true);
      expect(
        allowed.some((a) => a === `!${source}` || a === `!${source}/`),
        `.dockerignore lets ${source} in`,
      ).to.equal(true);
    }
    expect(contextSources(final?.instructions ?? []).filter((s) => ['src', 'test', 'bench', 'tsconfig.json'].includes(s))).to.deep.equal(
      [],
    );
  });

  it('bakes in no credentials', () => {
    const settings = dockerfile.filter((i) => i.keyword === 'ENV' || i.keyword === 'ARG').map((i) => i.args);
    expect(settings.join('\n')).not.to.match(/AWS_(ACCESS_KEY|SECRET|SESSION)/);
  });
});
