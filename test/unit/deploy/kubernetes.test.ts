// deploy/kubernetes: the manifests parsed as YAML, and what they hand fleet read by fleet's own loaders.
// No cluster runs here; `kubectl kustomize` renders them where kubectl is installed.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { loadConfig } from '../../../src/config/config.js';
import { loadPolicies } from '../../../src/config/policies.js';
import { configWarnings } from '../../../src/config/warnings.js';
import { parseDockerfile, stages } from '../../support/dockerfile.js';

const DIR = 'deploy/kubernetes';

// Loose shapes: the tests check every field they read.
type Doc = Record<string, any>;

function loadDocs(file: string): Doc[] {
  return parseAllDocuments(readFileSync(join(DIR, file), 'utf8')).map((d) => {
    if (d.errors.length > 0) throw new Error(`${file}: ${d.errors.map((e) => e.message).join('; ')}`);
    return d.toJS() as Doc;
  });
}

const files = readdirSync(DIR)
  .filter((f) => f.endsWith('.yaml'))
  .sort();
const docs = files.filter((f) => f !== 'kustomization.yaml').flatMap(loadDocs);
const kinds = (kind: string) => docs.filter((d) => d.kind === kind);
const only = (kind: string, name?: string): Doc => {
  const found = kinds(kind).filter((d) => name === undefined || d.metadata?.name === name);
  expect(found, `${kind}${name ? ` ${name}` : ''}`).to.have.lengthOf(1);
  return found[0] as Doc;
};

const deployment = only('Deployment');
const pod = deployment.spec.template.spec as Doc;
const container = (pod.containers as Doc[])[0] as Doc;
const env = new Map<string, string>((container.env as Doc[]).map((e) => [e.name as string, e.value as string]));
const metricsPort = (container.ports as Doc[]).find((p) => p.name === 'metrics')?.containerPort as number;

/** The ConfigMap mounted at the directory holding `path`, and the key `path` names in it. */
function configMapAt(path: string): { map: Doc; key: string } {
  const mount = (container.volumeMounts as Doc[]).find((m) => posix.dirname(path) === m.mountPath);
  expect(mount, `a volume mounted at ${posix.dirname(path)}`).not.to.equal(undefined);
  const volume = (pod.volumes as Doc[]).find((v) => v.name === mount?.name);
  return { map: only('ConfigMap', volume?.configMap?.name), key: posix.basename(path) };
}

/** The ConfigMap mounted as the directory `dir`. */
function configMapDir(dir: string): Doc {
  const mount = (container.volumeMounts as Doc[]).find((m) => m.mountPath === dir);
  expect(mount, `a volume mounted at ${dir}`).not.to.equal(undefined);
  const volume = (pod.volumes as Doc[]).find((v) => v.name === mount?.name);
  return only('ConfigMap', volume?.configMap?.name);
}

describe('deploy: Kubernetes manifests', () => {
  let scratch: string;
  before(() => (scratch = mkdtempSync(join(tmpdir(), 'fleet-k8s-'))));
  after(() => rmSync(scratch, { recursive: true, force: true }));

  /** The config the pods read, loaded by fleet as the pods would (their FLEET_* variables included). */
  function podConfig() {
    const { map, key } = configMapAt(env.get('FLEET_CONFIG') as string);
    const file = join(scratch, key);
    writeFileSync(file, map.data[key] as string);
    const fleetEnv = Object.fromEntries([...env].filter(([k]) => k.startsWith('FLEET_') && k !== 'FLEET_CONFIG'));
    return loadConfig(file, fleetEnv);
  }

  it('lists every manifest in the kustomization', () => {
    const [kustomization] = loadDocs('kustomization.yaml');
    expect([...(kustomization?.resources as string[])].sort()).to.deep.equal(files.filter((f) => f !== 'kustomization.yaml'));
    expect(docs.map((d) => d.kind).sort()).to.deep.equal([
      'ConfigMap',
      'ConfigMap',
      'Deployment',
      'Namespace',
      'PodDisruptionBudget',
      'Service',
      'ServiceAccount',
    ]);
  });

  it('runs two replicas of fleet reconcile', () => {
    expect(deployment.spec.replicas).to.equal(2);
    expect(deployment.spec.selector.matchLabels).to.deep.equal(deployment.spec.template.metadata.labels);
    expect(container.args).to.deep.equal(['reconcile']);
  });

  it('shares the S3 state store, hence the leader lease, between the replicas', () => {
    const config = podConfig();
    expect(config.state).to.match(/^s3:\/\/[a-z0-9.-]+\/.+\/$/);
    expect(env.has('FLEET_STATE'), 'no FLEET_STATE overriding the shared state').to.equal(false);
  });

  it('mounts the config where FLEET_CONFIG points and the policies where the config says; fleet accepts both', () => {
    const config = podConfig();
    expect(config.policies).to.equal('/etc/fleet/policies');
    const policies = configMapDir(config.policies);
    const dir = join(scratch, 'policies');
    mkdirSync(dir);
    for (const [name, text] of Object.entries(policies.data as Record<string, string>)) writeFileSync(join(dir, name), text);
    const loaded = loadPolicies(dir);
    expect(loaded.map((p) => p.pool)).to.deep.equal(Object.keys(policies.data).map((f) => f.replace(/\.json$/, '')));
    expect(configWarnings(config, loaded)).to.deep.equal([]);
  });

  it('probes /healthz on the metrics port for readiness and liveness (a standby answers 200)', () => {
    const config = podConfig();
    expect(metricsPort).to.equal(config.metrics.port);
    // The kubelet and Prometheus come from outside the pod: loopback (the default) would not do.
    expect(config.metrics.host).to.be.oneOf(['0.0.0.0', '::']);
    for (const probe of ['readinessProbe', 'livenessProbe']) {
      expect(container[probe]?.httpGet, probe).to.deep.include({ path: '/healthz', port: 'metrics' });
    }
    // Liveness restarts only a replica stuck for longer than the three intervals /healthz allows.
    const liveness = container.livenessProbe as Doc;
    expect((liveness.periodSeconds as number) * (liveness.failureThreshold as number)).to.be.greaterThan(3 * config.interval);
  });

  it("runs as the image's non-root user on a read-only root filesystem, without privileges", () => {
    expect(pod.securityContext.runAsNonRoot).to.equal(true);
    const dockerUser = stages(parseDockerfile(readFileSync('Dockerfile', 'utf8')))
      .at(-1)
      ?.instructions.filter((i) => i.keyword === 'USER')
      .at(-1)?.args;
    expect(`${pod.securityContext.runAsUser}:${pod.securityContext.runAsGroup}`).to.equal(dockerUser);
    expect(pod.securityContext.seccompProfile).to.deep.equal({ type: 'RuntimeDefault' });
    expect(container.securityContext).to.deep.equal({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
    });
    expect(container.resources.requests).to.have.all.keys('cpu', 'memory');
    expect(container.resources.limits).to.have.property('memory');
    // On SIGTERM the action in flight finishes; as long as the systemd unit allows.
    expect(pod.terminationGracePeriodSeconds).to.be.at.least(180);
  });

  it('takes AWS credentials from the service account (IRSA), never from the manifests', () => {
    const account = only('ServiceAccount');
    expect(pod.serviceAccountName).to.equal(account.metadata.name);
    expect(account.metadata.annotations['eks.amazonaws.com/role-arn']).to.match(/^arn:aws:iam::\d{12}:role\/\S+$/);
    expect([...env.keys()].filter((k) => /AWS_(ACCESS_KEY|SECRET|SESSION)/.test(k))).to.deep.equal([]);
  });

  it('exposes the metrics port as a Service and keeps one replica through voluntary disruptions', () => {
    const labels = deployment.spec.template.metadata.labels as Record<string, string>;
    const service = only('Service');
    expect(service.spec.selector).to.deep.equal(labels);
    expect(service.spec.ports).to.deep.equal([{ name: 'metrics', port: metricsPort, targetPort: 'metrics', protocol: 'TCP' }]);
    const pdb = only('PodDisruptionBudget');
    expect(pdb.spec.selector.matchLabels).to.deep.equal(labels);
    expect(pdb.spec.minAvailable).to.equal(1);
  });

  it('renders with kubectl kustomize, every object in the fleet namespace', function () {
    const r = spawnSync('kubectl', ['kustomize', DIR], { encoding: 'utf8' });
    if (r.error !== undefined) {
      console.log(`      skipping: kubectl is not installed (${(r.error as NodeJS.ErrnoException).code})`);
      this.skip();
    }
    expect(r.status, r.stderr).to.equal(0);
    const rendered = parseAllDocuments(r.stdout).map((d) => d.toJS() as Doc);
    expect(rendered).to.have.lengthOf(docs.length);
    for (const d of rendered.filter((x) => x.kind !== 'Namespace'))
      expect(d.metadata.namespace, `${d.kind} ${d.metadata.name}`).to.equal('fleet');
  });
});
