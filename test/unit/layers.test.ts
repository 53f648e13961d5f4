// The layout's import rules (docs/design.md), read from the sources: which folder of src/ may
// import which. A rule broken here is a dependency the design does not allow, not a style matter.

import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const SRC = join(ROOT, 'src');

interface Import {
  /** the importing file, relative to the project */
  readonly from: string;
  /** what it names: a package, `node:…`, or a project path (relative to the project) */
  readonly to: string;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(path);
    return e.name.endsWith('.ts') ? [path] : [];
  });
}

// Static imports, re-exports and dynamic imports with a literal specifier.
const SPECIFIER =
  /(?:^|[\s;])(?:import|export)\b[^'"]*?\bfrom\s*['"]([^'"]+)['"]|\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)|^\s*import\s*['"]([^'"]+)['"]/gm;

function importsOf(file: string, text: string): Import[] {
  const from = relative(ROOT, file).split(sep).join('/');
  return [...text.matchAll(SPECIFIER)].map((m) => {
    const spec = (m[1] ?? m[2] ?? m[3]) as string;
    const to = spec.startsWith('.')
      ? relative(ROOT, resolve(dirname(file), spec))
          .split(sep)
          .join('/')
      : spec;
    return { from, to };
  });
}

const IMPORTS: readonly Import[] = sourceFiles(SRC).flatMap((f) => importsOf(f, readFileSync(f, 'utf8')));

/** The folder of src/ a project path lies in (`src/plan/pool.ts` → `plan`), undefined outside src/. */
function folderOf(path: string): string | undefined {
  const [top, folder, ...rest] = path.split('/');
  return top === 'src' && rest.length > 0 ? folder : undefined;
}

const isProject = (to: string) => /^(src|test|bench|scripts)\//.test(to);

/** The imports of files in `folder` that reach a project folder outside `allowed` (or outside src/). */
function breaches(folder: string, allowed: readonly string[]): string[] {
  return IMPORTS.filter((i) => folderOf(i.from) === folder && isProject(i.to))
    .filter((i) => {
      const target = folderOf(i.to);
      return target === undefined || (target !== folder && !allowed.includes(target));
    })
    .map((i) => `${i.from} imports ${i.to}`);
}

describe('layers: what each folder of src/ may import', () => {
  it('reads the imports at all (the rules below would pass on nothing)', () => {
    expect(IMPORTS.filter((i) => i.from === 'src/plan/plan.ts').map((i) => i.to)).to.include('src/policy/prices.js');
    expect(IMPORTS.filter((i) => folderOf(i.from) === 'sim' && folderOf(i.to) === 'fake-cloud')).to.not.be.empty;
    expect(importsOf(join(SRC, 'x/y.ts'), "const m = await import('../z/w.js');\nexport { a } from './b.js';")).to.deep.equal([
      { from: 'src/x/y.ts', to: 'src/z/w.js' },
      { from: 'src/x/y.ts', to: 'src/x/b.js' },
    ]);
  });

  it('domain imports nothing of src but itself', () => {
    expect(breaches('domain', [])).to.deep.equal([]);
  });

  it('policy imports only domain', () => {
    expect(breaches('policy', ['domain'])).to.deep.equal([]);
  });

  it('plan imports only domain and policy', () => {
    expect(breaches('plan', ['domain', 'policy'])).to.deep.equal([]);
  });

  it('the pure core (domain, policy, plan) uses no Node module and no AWS SDK', () => {
    const core = IMPORTS.filter((i) => ['domain', 'policy', 'plan'].includes(folderOf(i.from) ?? ''));
    expect(
      core.filter((i) => i.to.startsWith('node:') || i.to.startsWith('@aws-sdk/')).map((i) => `${i.from} imports ${i.to}`),
    ).to.deep.equal([]);
  });

  it('the fake cloud and the fleet sim feature are reached only from the sim command, never from the product path', () => {
    const users = IMPORTS.filter((i) => ['fake-cloud', 'sim'].includes(folderOf(i.to) ?? ''))
      .map((i) => folderOf(i.from))
      .filter((f) => f !== 'fake-cloud' && f !== 'sim');
    expect([...new Set(users)]).to.deep.equal(['cli']);
    const cliFiles = IMPORTS.filter((i) => folderOf(i.from) === 'cli' && ['fake-cloud', 'sim'].includes(folderOf(i.to) ?? '')).map(
      (i) => i.from,
    );
    expect([...new Set(cliFiles)]).to.deep.equal(['src/cli/commands/sim.ts']);
  });

  it('the fake cloud does not import the fleet sim feature, nor the service', () => {
    expect(breaches('fake-cloud', ['domain', 'cloud', 'events'])).to.deep.equal([]);
  });

  it('what runs on a worker, and what it shares with the service, never imports the service', () => {
    expect(breaches('worker', ['cloud', 'config', 'domain', 'policy', 'shared'])).to.deep.equal([]);
    expect(breaches('shared', ['cloud', 'config', 'domain', 'manifest', 'policy'])).to.deep.equal([]);
  });

  it('the cloud port and its adapters do not import the service', () => {
    expect(breaches('cloud', ['domain', 'policy', 'events'])).to.deep.equal([]);
  });

  it('nothing in src imports test/, bench/ or scripts/', () => {
    expect(IMPORTS.filter((i) => /^(test|bench|scripts)\//.test(i.to)).map((i) => `${i.from} imports ${i.to}`)).to.deep.equal([]);
  });

  it('src holds no test harness: no soak, judge or invariant checker', () => {
    const harness = sourceFiles(SRC)
      .map((f) => relative(ROOT, f).split(sep).join('/'))
      .filter((p) => /(^|\/)(soak|judge|invariants?)([./]|$)/.test(p));
    expect(harness).to.deep.equal([]);
  });
});
