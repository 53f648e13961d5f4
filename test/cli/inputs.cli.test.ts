import { expect } from 'chai';
import { CreateTagsCommand, DescribeInstancesCommand, type EC2Client } from '@aws-sdk/client-ec2';
import type { FaultProxy } from '../support/fault-proxy.js';
import { useMoto } from '../support/moto.js';
import { fleet, workspace } from '../support/cli.js';
import { motoFleet } from '../support/moto-fleet.js';
import { type Handler, serve } from '../support/http-routes.js';

/** Streams JSON-looking bytes with no Content-Length until the client goes away. */
const endless: Handler = (_req, res) => {
  res.writeHead(200, { 'Content-Type': 'application/json' });
  const chunk = `{"bld-linux64": 3, "pad": "${'x'.repeat(64 * 1024)}",`;
  const more = () => {
    while (!res.destroyed && res.write(chunk));
    if (!res.destroyed) res.once('drain', more);
  };
  res.on('close', () => res.removeAllListeners('drain'));
  more();
};

const problemsOf = (stderr: string) =>
  stderr
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { msg: string; problem?: string })
    .filter((l) => l.problem !== undefined)
    .map((l) => l.problem as string);

describe('cli: inputs over HTTP are capped, stay on their origin, and need allowHttp for http://', function () {
  this.timeout(60_000);
  const moto = useMoto(this);
  let proxy: FaultProxy;
  let env: Record<string, string>;
  let config: string;
  let server: Awaited<ReturnType<typeof serve>>;
  let elsewhere: Awaited<ReturnType<typeof serve>>;

  before(async () => {
    ({ proxy, env, config } = await motoFleet(moto().endpoint));
    elsewhere = await serve({ '/desired.json': (_req, res) => res.writeHead(200).end('{"bld-linux64": 9}') });
    server = await serve({
      '/good.json': (_req, res) => res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"bld-linux64": 2}'),
      '/endless.json': endless,
      // Says it is 100 MB and sends nothing: the reader must refuse on the header alone.
      '/declared-huge.json': (_req, res) => {
        res.writeHead(200, { 'Content-Length': String(100 * 1024 * 1024) });
        res.flushHeaders();
      },
      '/moved.json': (_req, res) =>
        res.writeHead(302, { Location: `${elsewhere.base.replace('127.0.0.1', 'localhost')}/desired.json` }).end(),
      '/moved-here.json': (_req, res) => res.writeHead(301, { Location: '/good.json' }).end(),
      '/not-json.json': (_req, res) => res.writeHead(200).end('token=ghp_s3cr3tvalue is not JSON'),
    });
  });
  after(async () => {
    await proxy?.close();
    await server?.close();
    await elsewhere?.close();
  });

  const plan = (desired: string, extra: Record<string, string> = {}) =>
    fleet(['plan', '--json', '--config', config], {
      ...env,
      FLEET_ALLOW_HTTP: 'true',
      FLEET_STATE: 's3://fleet-control/state-http/',
      FLEET_DESIRED: desired,
      ...extra,
    });

  it('refuses a plain http:// location unless allowHttp is set, naming the key, before any request', async () => {
    const refused = await fleet(['plan', '--json', '--config', config], {
      ...env,
      FLEET_DESIRED: `${server.base}/good.json?X-Amz-Signature=SECRET`,
    });
    expect(refused.code).to.equal(2);
    expect(refused.stderr).to.match(
      /config desired: http:\/\/127\.0\.0\.1:\d+\/good\.json: http:\/\/ is refused .*allowHttp \(env FLEET_ALLOW_HTTP=true\)/,
    );
    expect(refused.stderr).not.to.include('SECRET');
    expect(server.asked).to.deep.equal([]);
    const allowed = await plan(`${server.base}/good.json`);
    expect(allowed.code, allowed.stderr).to.equal(0);
    expect(JSON.parse(allowed.stdout).pools[0]).to.include({ pool: 'bld-linux64', desired: 2 });
  });

  it('stops reading a body past the 1 MiB cap of desired counts, and keeps no copy of it', async () => {
    const r = await plan(`${server.base}/endless.json`);
    expect(r.code).to.equal(1);
    expect(problemsOf(r.stderr)).to.include(`cannot read desired ${server.base}/endless.json: larger than the 1 MiB cap`);
  });

  it('refuses a manifest whose Content-Length is over the 16 MiB cap without reading it', async () => {
    const r = await plan(`${server.base}/good.json`, { FLEET_MANIFEST: `${server.base}/declared-huge.json` });
    expect(problemsOf(r.stderr)).to.include(`cannot read manifest ${server.base}/declared-huge.json: larger than the 16 MiB cap`);
  });

  it('follows a redirect on the same origin only', async () => {
    const same = await plan(`${server.base}/moved-here.json`);
    expect(same.code, same.stderr).to.equal(0);
    expect(JSON.parse(same.stdout).pools[0]).to.include({ desired: 2 });
    const other = await plan(`${server.base}/moved.json`);
    expect(other.code).to.equal(1);
    expect(problemsOf(other.stderr).join('\n')).to.match(/HTTP 302 redirect to another origin \(http:\/\/localhost:\d+\) refused/);
    expect(elsewhere.asked).to.deep.equal([]);
  });

  it('says a body is not JSON without quoting it, and shows no query string', async () => {
    const r = await plan(`${server.base}/not-json.json?sig=SECRET`);
    expect(r.code).to.equal(1);
    expect(r.stderr).not.to.include('s3cr3t');
    expect(r.stderr).not.to.include('SECRET');
    expect(problemsOf(r.stderr)).to.include('desired counts: not JSON (a syntax error)');
  });
});

describe('cli: status --hosts prints only slot names, and tables show no raw control characters', function () {
  this.timeout(60_000);
  const moto = useMoto(this);
  let proxy: FaultProxy;
  let env: Record<string, string>;
  let ec2: EC2Client;
  let config: string;

  before(async () => {
    ({ proxy, env, ec2, config } = await motoFleet(moto().endpoint, { desired: 2 }));
    const r = await fleet(['reconcile', '--once', '--config', config], env);
    expect(r.code, r.stderr).to.equal(0);
  });
  after(async () => proxy?.close());

  it('leaves out an instance whose Name tag is not one of its pool slot names (a forged hosts line)', async () => {
    const out = await ec2.send(new DescribeInstancesCommand({ Filters: [{ Name: 'tag:fleet:managed-by', Values: ['releng'] }] }));
    const [forged, honest] = (out.Reservations ?? []).flatMap((x) => x.Instances ?? []);
    await ec2.send(
      new CreateTagsCommand({
        Resources: [forged?.InstanceId as string],
        Tags: [{ Key: 'Name', Value: 'bld-linux64-spot-001\n10.66.66.66 github.com \u001b[31mred' }],
      }),
    );
    const honestName = honest?.Tags?.find((t) => t.Key === 'Name')?.Value as string;

    const hosts = await fleet(['status', '--hosts', '--config', config], env);
    expect(hosts.code, hosts.stderr).to.equal(0);
    expect(hosts.stdout).to.equal(`${honest?.PrivateIpAddress} ${honestName}\n`);

    const table = await fleet(['status', '--config', config], env);
    expect(table.code, table.stderr).to.equal(0);
    expect(table.stdout).not.to.match(/[\u0000-\u0009\u000b-\u001f]/);
    expect(table.stdout).to.include('bld-linux64-spot-001?10.66.66.66 github.com ?[31mred');
    expect(table.stdout.split('\n').filter((l) => l.startsWith('10.66.66.66'))).to.deep.equal([]);
  });
});

describe('cli: config check shows locations redacted', function () {
  this.timeout(30_000);

  it('prints a presigned manifest URL and a basic-auth desired URL without their secrets', async () => {
    const ws = workspace(
      {
        fleet: 'releng',
        manifest: 'https://bucket.s3.amazonaws.com/amis.json?X-Amz-Signature=SECRET',
        desired: 'https://user:pa55word@example.com/desired.json',
      },
      [
        {
          pool: 'bld-linux64',
          instanceTypes: ['c5.xlarge'],
          regions: { 'us-east-1': { subnets: ['subnet-0a1b'] } },
          size: { min: 0, max: 10 },
        },
      ],
    );
    const r = await fleet(['config', 'check', '--config', ws.config]);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.include('"manifest": "https://bucket.s3.amazonaws.com/amis.json"');
    expect(r.stdout).to.include('"desired": "https://example.com/desired.json"');
    expect(r.stdout).to.include('"allowHttp": false');
    expect(r.stdout).not.to.match(/SECRET|pa55word/);
  });
});
