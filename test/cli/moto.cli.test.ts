import { expect } from 'chai';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { DescribeInstancesCommand, type EC2Client, type Instance } from '@aws-sdk/client-ec2';
import type { FaultProxy } from '../support/fault-proxy.js';
import { useMoto } from '../support/moto.js';
import { fleet } from '../support/cli.js';
import { startImds } from '../support/imds.js';
import { motoFleet } from '../support/moto-fleet.js';

const MUTATING = /^(Run|Terminate|Create|Delete|Modify|Put)/;

describe('cli against moto_server: the operator path end to end', function () {
  this.timeout(60_000);
  const moto = useMoto(this);
  let proxy: FaultProxy;
  let env: Record<string, string>;
  let ec2: EC2Client;
  let s3: S3Client;
  let subnet: { id: string; az: string };
  let config: string;

  before(async () => {
    const world = await motoFleet(moto().endpoint, { subnetIndex: 1 });
    ({ proxy, env, ec2, s3, config } = world);
    subnet = world.subnets[1] as { id: string; az: string };
  });
  after(async () => proxy?.close());

  it('reconcile --once launches exactly the desired tagged spot instances in the chosen subnet, with no CreateNetworkInterface', async () => {
    proxy.clearCalls();
    const r = await fleet(['reconcile', '--once', '--config', config], env);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.match(/launched 3, terminated 0/);
    // One JSON log line per action, naming pool, instance, cause and reason.
    const launches = r.stderr
      .split('\n')
      .filter((l) => l.includes('"msg":"launch"'))
      .map((l) => JSON.parse(l));
    expect(launches).to.have.length(3);
    for (const l of launches) expect(l).to.include({ cause: 'scale-up' }).and.to.include.keys('pool', 'instance', 'reason');

    const out = await ec2.send(new DescribeInstancesCommand({ Filters: [{ Name: 'tag:fleet:managed-by', Values: ['releng'] }] }));
    const instances = (out.Reservations ?? []).flatMap((x) => x.Instances ?? []);
    expect(instances).to.have.length(3);
    for (const i of instances) {
      expect(i.InstanceLifecycle).to.equal('spot');
      expect(i.SubnetId).to.equal(subnet.id);
      expect(i.MetadataOptions).to.include({ HttpTokens: 'required', InstanceMetadataTags: 'enabled' });
      const tags = Object.fromEntries((i.Tags ?? []).map((t) => [t.Key, t.Value]));
      expect(tags).to.include({ 'fleet:managed-by': 'releng', 'fleet:pool': 'bld-linux64' });
      expect(tags.Name).to.match(/^bld-linux64-spot-00[123]$/);
    }
    expect(proxy.calls.map((c) => c.action)).not.to.include('CreateNetworkInterface');
    // A probe of one, then the other two in one all-or-nothing call.
    const runs = proxy.calls.filter((c) => c.action === 'RunInstances');
    expect(runs.map((c) => [c.params.get('MinCount'), c.params.get('MaxCount')])).to.deep.equal([
      ['1', '1'],
      ['2', '2'],
    ]);
    expect(new Set(runs.map((c) => c.params.get('ClientToken'))).size).to.equal(2);
    for (const call of runs) {
      expect(call.params.get('NetworkInterface.1.SubnetId')).to.equal(subnet.id);
      expect(call.params.has('NetworkInterface.1.NetworkInterfaceId')).to.equal(false);
      expect(call.params.get('InstanceMarketOptions.MarketType')).to.equal('spot');
      expect(call.params.get('ClientToken')).to.match(/^fleet-[0-9a-f]{40}$/);
    }
  });

  it('check-ami on a launched worker reads what fleet tagged at launch from its metadata, the manifest and drains from S3, and calls no EC2 API', async () => {
    const out = await ec2.send(new DescribeInstancesCommand({ Filters: [{ Name: 'tag:fleet:managed-by', Values: ['releng'] }] }));
    const launched = (out.Reservations ?? []).flatMap((x) => x.Instances ?? [])[0] as Instance;
    // The worker's metadata is simulated (moto has no IMDS), from the instance as EC2 describes it.
    const imds = await startImds({
      instanceId: launched.InstanceId as string,
      ami: launched.ImageId as string,
      az: launched.Placement?.AvailabilityZone as string,
      region: 'us-east-1',
      launchIndex: launched.AmiLaunchIndex ?? 0,
      tags: Object.fromEntries((launched.Tags ?? []).map((t) => [t.Key as string, t.Value as string])),
    });
    // No AWS_REGION on a worker: S3 is asked in the region metadata names.
    const { AWS_REGION: _region, AWS_DEFAULT_REGION: _default, ...workerEnv } = env;
    const checkAmi = () =>
      fleet(['check-ami', '--json', '--config', config], {
        ...workerEnv,
        AWS_EC2_METADATA_DISABLED: 'false',
        AWS_EC2_METADATA_SERVICE_ENDPOINT: imds.endpoint,
      });
    try {
      proxy.clearCalls();
      const r = await checkAmi();
      expect(r.code, r.stderr).to.equal(0);
      const name = launched.Tags?.find((t) => t.Key === 'Name')?.Value;
      expect(name).to.match(/^bld-linux64-spot-00[123]$/);
      expect(JSON.parse(r.stdout)).to.deep.equal({
        instanceId: launched.InstanceId,
        ami: launched.ImageId,
        pool: 'bld-linux64',
        region: 'us-east-1',
        verdict: 'launchable',
        reason: `${launched.ImageId} is the image fleet launches for bld-linux64 in us-east-1`,
        name,
      });
      expect(proxy.calls.filter((c) => c.service !== 's3').map((c) => c.action)).to.deep.equal([]);
      expect(proxy.calls.map((c) => c.path)).to.include.members(['/golden-amis/amis.json', '/fleet-control/state/drained.json']);
      expect(proxy.calls.filter((c) => c.method !== 'GET')).to.deep.equal([]);

      const drained = await fleet(['drain', '--ami', launched.ImageId as string, '--reason', 'boot loop', '--config', config], env);
      expect(drained.code, drained.stderr).to.equal(0);
      const after = await checkAmi();
      expect(after.code, after.stdout).to.equal(4);
      expect(JSON.parse(after.stdout)).to.include({ verdict: 'drained' });
    } finally {
      await fleet(['undrain', '--ami', launched.ImageId as string, '--config', config], env);
      await imds.close();
    }
  });

  it('status --json lists each instance with its private and public IP', async () => {
    const r = await fleet(['status', '--json', '--config', config], env);
    expect(r.code, r.stderr).to.equal(0);
    const status = JSON.parse(r.stdout);
    expect(status.instances).to.have.length(3);
    for (const i of status.instances) {
      expect(i).to.include.keys(
        'id',
        'name',
        'pool',
        'region',
        'az',
        'instanceType',
        'lifecycle',
        'state',
        'privateIp',
        'publicIp',
        'ami',
        'amiStatus',
        'launchTime',
      );
      expect(i.privateIp).to.match(/^\d+\.\d+\.\d+\.\d+$/);
      expect(i.publicIp).to.match(/^\d+\.\d+\.\d+\.\d+$/);
      expect(i).to.include({ pool: 'bld-linux64', lifecycle: 'spot', amiStatus: 'current', az: subnet.az });
    }
    expect(status.pools).to.have.length(1);
    expect(status.pools[0]).to.include({ pool: 'bld-linux64', desired: 3, spot: 3, onDemand: 0, outdated: 0 });
    expect(status.pools[0].running + status.pools[0].pending).to.equal(3);
  });

  it('status --hosts prints hosts-file lines, and the table shows a summary line per pool', async () => {
    const hosts = await fleet(['status', '--hosts', '--config', config], env);
    expect(hosts.code).to.equal(0);
    const lines = hosts.stdout.trim().split('\n');
    expect(lines).to.have.length(3);
    for (const line of lines) expect(line).to.match(/^\d+\.\d+\.\d+\.\d+ bld-linux64-spot-00[123]$/);
    const table = await fleet(['status', '--config', config], env);
    expect(table.stdout).to.match(/bld-linux64: desired 3 \/ running \d \/ pending \d \/ spot 3 \/ on-demand 0 \/ outdated 0 \//);
  });

  it('plan --json shows what would change and mutates nothing', async () => {
    await s3.send(new PutObjectCommand({ Bucket: 'fleet-control', Key: 'desired.json', Body: JSON.stringify({ 'bld-linux64': 5 }) }));
    proxy.clearCalls();
    const r = await fleet(['plan', '--json', '--config', config], env);
    expect(r.code, r.stderr).to.equal(0);
    const plan = JSON.parse(r.stdout);
    expect(plan.actions).to.have.length(2);
    for (const a of plan.actions) {
      expect(a).to.include({
        kind: 'launch',
        pool: 'bld-linux64',
        region: 'us-east-1',
        az: subnet.az,
        instanceType: 'c5.xlarge',
        lifecycle: 'spot',
      });
      expect(a).to.include({ cause: 'scale-up' }).and.to.include.keys('ami', 'name', 'price', 'reason');
      expect(a).not.to.have.key('instanceId');
    }
    expect(plan.actions.map((a: { name: string }) => a.name)).to.deep.equal(['bld-linux64-spot-004', 'bld-linux64-spot-005']);
    expect(proxy.calls.length).to.be.greaterThan(0);
    expect(proxy.calls.filter((c) => MUTATING.test(c.action) || c.method === 'PUT' || c.method === 'DELETE')).to.deep.equal([]);

    const dry = await fleet(['reconcile', '--dry-run', '--once', '--config', config], env);
    expect(dry.code).to.equal(0);
    expect(dry.stdout).to.match(/dry run: nothing changed/);
    expect(proxy.calls.filter((c) => MUTATING.test(c.action) || c.method === 'PUT' || c.method === 'DELETE')).to.deep.equal([]);
  });

  it('reconcile --once refuses to act while another replica holds the leader lease', async () => {
    const lease = { holder: 'other-host:1:abc', expiresAt: Date.now() + 600_000, renewedAt: Date.now() };
    await s3.send(new PutObjectCommand({ Bucket: 'fleet-control', Key: 'state/lease.json', Body: JSON.stringify(lease) }));
    proxy.clearCalls();
    const r = await fleet(['reconcile', '--once', '--config', config], env);
    expect(r.code).to.equal(1);
    expect(r.stderr.split('\n').filter((l) => l.startsWith('fleet:'))).to.deep.equal([
      `fleet: another replica (other-host:1:abc) holds the leader lease until ${new Date(lease.expiresAt).toISOString()}; nothing changed`,
    ]);
    expect(proxy.calls.filter((c) => c.action === 'RunInstances' || c.action === 'TerminateInstances')).to.deep.equal([]);
    // Released, it is taken at once, and given back at the end of the run.
    await s3.send(
      new PutObjectCommand({ Bucket: 'fleet-control', Key: 'state/lease.json', Body: JSON.stringify({ ...lease, expiresAt: 0 }) }),
    );
    const ok = await fleet(['reconcile', '--once', '--config', config], env);
    expect(ok.code, ok.stderr).to.equal(0);
    expect(ok.stderr).to.match(/"msg":"leader lease released"/);
  });

  it('reconcile --once on a state bucket that does not exist names the bucket and the cause in one line', async () => {
    proxy.clearCalls();
    const r = await fleet(['reconcile', '--once', '--config', config], { ...env, FLEET_STATE: 's3://no-such-fleet-bucket/state/' });
    expect(r.code).to.equal(1);
    const lines = r.stderr.split('\n').filter((l) => l.startsWith('fleet:'));
    expect(lines).to.have.length(1);
    expect(lines[0]).to.include('s3://no-such-fleet-bucket/state/lease.json').and.include('NoSuchBucket');
    expect(proxy.calls.filter((c) => c.action === 'RunInstances' || c.action === 'TerminateInstances')).to.deep.equal([]);
  });

  it('with no usable desired counts anywhere, plan and reconcile --once change nothing and exit 1', async () => {
    // A fresh state prefix holds no last good copy; the desired counts object does not exist.
    const fresh = { ...env, FLEET_STATE: 's3://fleet-control/state-fresh/', FLEET_DESIRED: 's3://fleet-control/missing.json' };
    proxy.clearCalls();
    const plan = await fleet(['plan', '--json', '--config', config], fresh);
    expect(plan.code).to.equal(1);
    expect(JSON.parse(plan.stdout)).to.include({ blocked: 'no usable desired counts: nothing is launched or retired' });
    expect(plan.stderr.split('\n').filter((l) => l.startsWith('fleet:'))).to.deep.equal([
      'fleet: no usable desired counts: nothing is launched or retired',
    ]);
    const once = await fleet(['reconcile', '--once', '--config', config], fresh);
    expect(once.code).to.equal(1);
    expect(once.stdout).to.match(/blocked: no usable desired counts/);
    expect(proxy.calls.filter((c) => c.action === 'RunInstances' || c.action === 'TerminateInstances')).to.deep.equal([]);
  });

  it('reconcile runs as a service and stops cleanly on SIGTERM', async () => {
    const { spawn } = await import('node:child_process');
    await s3.send(new PutObjectCommand({ Bucket: 'fleet-control', Key: 'desired.json', Body: JSON.stringify({ 'bld-linux64': 7 }) }));
    const child = spawn(process.execPath, ['dist/cli/main.js', 'reconcile', '--config', config], {
      env: { PATH: process.env.PATH ?? '', ...env, FLEET_INTERVAL: '1', FLEET_METRICS_PORT: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const launched = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no cycle within 30s: ${stderr}`)), 30_000);
      const poll = setInterval(() => {
        if (/"msg":"launch"/.test(stderr) && stderr.split('"msg":"launch"').length - 1 >= 2) {
          clearInterval(poll);
          clearTimeout(timer);
          resolve();
        }
      }, 100);
    });
    try {
      await launched;
    } catch (e) {
      child.kill('SIGKILL');
      throw e;
    }
    child.kill('SIGTERM');
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code, stderr).to.equal(0);
    expect(stderr).to.match(/"msg":"stopped"/);
  });
});
