import { expect } from 'chai';
import { InputError } from '../../../src/domain/errors.js';
import { Imds, ImdsUnavailable, metadataEndpoint } from '../../../src/worker/imds.js';
import { regionOfZone, readWorkerIdentity } from '../../../src/worker/identity.js';
import { poolFromUserData } from '../../../src/worker/user-data.js';
import { type FakeImds, type InstanceMetadata, startImds } from '../../support/imds.js';
import { rejection } from '../../support/expect.js';

const WORKER: InstanceMetadata = {
  instanceId: 'i-0abc',
  ami: 'ami-0new',
  launchIndex: 1,
  region: 'eu-central-1',
  az: 'eu-central-1a',
  tags: { 'fleet:pool': 'tst-linux64', 'fleet:names': 'tst-linux64-{nnn} 7,12', Other: 'x' },
};

describe('worker: the IMDSv2 client (on a simulated metadata service)', () => {
  let imds: FakeImds;
  afterEach(() => imds.close());

  it('asks a token once, with a TTL, and sends it with every read; a missing path reads as undefined', async () => {
    imds = await startImds(WORKER);
    const client = new Imds({ endpoint: imds.endpoint });
    const [id, ami, missing] = await Promise.all([
      client.metaData('instance-id'),
      client.metaData('ami-id'),
      client.metaData('no/such/path'),
    ]);
    expect([id, ami, missing]).to.deep.equal(['i-0abc', 'ami-0new', undefined]);
    expect(await client.userData()).to.equal(undefined);
    expect(imds.requests.filter((r) => r.method === 'PUT')).to.have.length(1);
    expect(imds.ttls).to.deep.equal(['300']);
    expect(imds.requests.filter((r) => r.status === 401)).to.deep.equal([]);
  });

  it('the simulated service refuses a read without a token (401), as IMDSv2 does', async () => {
    imds = await startImds(WORKER);
    const response = await fetch(`${imds.endpoint}/latest/meta-data/instance-id`);
    expect(response.status).to.equal(401);
    const noTtl = await fetch(`${imds.endpoint}/latest/api/token`, { method: 'PUT' });
    expect(noTtl.status).to.equal(400);
  });

  it('fetches a new token once when the old one has expired', async () => {
    imds = await startImds(WORKER);
    const client = new Imds({ endpoint: imds.endpoint });
    expect(await client.metaData('instance-id')).to.equal('i-0abc');
    imds.expireTokens();
    expect(await client.metaData('ami-id')).to.equal('ami-0new');
    expect(imds.requests.map((r) => `${r.method} ${r.status}`)).to.deep.equal(['PUT 200', 'GET 200', 'GET 401', 'PUT 200', 'GET 200']);
  });

  it('retries server errors, then gives up with the reason', async () => {
    imds = await startImds(WORKER);
    imds.failNext(2);
    expect(await new Imds({ endpoint: imds.endpoint, attempts: 3 }).metaData('instance-id')).to.equal('i-0abc');
    imds.failNext(10);
    const error = await rejection(new Imds({ endpoint: imds.endpoint, attempts: 2 }).metaData('instance-id'));
    expect(error).to.be.instanceOf(ImdsUnavailable);
    expect(error.message).to.equal('PUT /latest/api/token: HTTP 500 (2 tries)');
  });

  it('never hangs on a service that accepts and does not answer', async () => {
    imds = await startImds(WORKER);
    imds.hang();
    const error = await rejection(new Imds({ endpoint: imds.endpoint, timeoutMs: 50, attempts: 2 }).metaData('instance-id'));
    expect(error).to.be.instanceOf(ImdsUnavailable);
    expect(error.message).to.equal('PUT /latest/api/token: timed out (2 tries)');
  });

  it('reads the identity: tags through the key listing, the name at the launch index of fleet:names', async () => {
    imds = await startImds(WORKER);
    const identity = await readWorkerIdentity(new Imds({ endpoint: imds.endpoint }));
    expect(identity).to.deep.equal({
      instanceId: 'i-0abc',
      ami: 'ami-0new',
      region: 'eu-central-1',
      pool: 'tst-linux64',
      poolFrom: 'tag',
      name: 'tst-linux64-012',
      tagsInMetadata: true,
    });
    const paths = imds.requests.map((r) => r.path);
    expect(paths).to.include('/latest/meta-data/tags/instance');
    // only the tags it needs, and only those the listing names
    expect(paths).not.to.include('/latest/meta-data/tags/instance/Other');
    expect(paths).not.to.include('/latest/meta-data/tags/instance/Name');
  });

  it('a Name tag wins over fleet:names; a malformed fleet:names leaves the worker nameless, not failing', async () => {
    imds = await startImds({ ...WORKER, tags: { ...WORKER.tags, Name: 'tst-linux64-099' } });
    expect((await readWorkerIdentity(new Imds({ endpoint: imds.endpoint }))).name).to.equal('tst-linux64-099');
    await imds.close();
    imds = await startImds({ ...WORKER, tags: { 'fleet:pool': 'tst-linux64', 'fleet:names': 'tst-linux64 7,12' } });
    const identity = await readWorkerIdentity(new Imds({ endpoint: imds.endpoint }));
    expect(identity).to.include({ pool: 'tst-linux64' });
    expect(identity).not.to.have.any.keys('name');
  });

  it('without the instance id the identity is unreadable', async () => {
    imds = await startImds({ ...WORKER, instanceId: '' });
    expect(await rejection(readWorkerIdentity(new Imds({ endpoint: imds.endpoint })))).to.be.instanceOf(ImdsUnavailable);
  });
});

describe('worker: where instance metadata is, as the AWS SDK resolves it', () => {
  const NAMES = ['AWS_EC2_METADATA_SERVICE_ENDPOINT', 'AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE', 'AWS_CONFIG_FILE'] as const;
  const saved: Record<string, string | undefined> = {};
  beforeEach(() => {
    for (const n of NAMES) saved[n] = process.env[n];
    // no shared config file may change the answer
    process.env.AWS_CONFIG_FILE = '/nonexistent/aws-config';
    delete process.env.AWS_EC2_METADATA_SERVICE_ENDPOINT;
    delete process.env.AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE;
  });
  afterEach(() => {
    for (const n of NAMES) {
      if (saved[n] === undefined) delete process.env[n];
      else process.env[n] = saved[n];
    }
  });

  it('the IPv4 link-local address by default, IPv6 in IPv6 mode', async () => {
    expect(await metadataEndpoint({})).to.equal('http://169.254.169.254');
    process.env.AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE = 'IPv6';
    expect(await metadataEndpoint({})).to.equal('http://[fd00:ec2::254]');
  });

  it('AWS_EC2_METADATA_SERVICE_ENDPOINT overrides it; like the SDK, only its origin counts', async () => {
    process.env.AWS_EC2_METADATA_SERVICE_ENDPOINT = 'http://127.0.0.1:8111/ignored/path';
    process.env.AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE = 'IPv6';
    expect(await metadataEndpoint({})).to.equal('http://127.0.0.1:8111');
  });

  it('AWS_EC2_METADATA_DISABLED set to anything but "false" turns it off', async () => {
    expect(await metadataEndpoint({ AWS_EC2_METADATA_DISABLED: 'true' })).to.equal(undefined);
    expect(await metadataEndpoint({ AWS_EC2_METADATA_DISABLED: '1' })).to.equal(undefined);
    expect(await metadataEndpoint({ AWS_EC2_METADATA_DISABLED: 'false' })).to.equal('http://169.254.169.254');
    expect(await metadataEndpoint({ AWS_EC2_METADATA_DISABLED: '' })).to.equal('http://169.254.169.254');
  });

  it('a mode the SDK does not know is a configuration error', async () => {
    process.env.AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE = 'IPv5';
    expect(await rejection(metadataEndpoint({}))).to.be.instanceOf(InputError);
  });
});

describe('worker: the pool of a worker launched by older tooling', () => {
  it('reads moz_instance_type from #cloud-config YAML user data', () => {
    expect(
      poolFromUserData('#cloud-config\n\nfqdn: bld-linux64-spot-003.build.releng.use1.example.com\nmoz_instance_type: bld-linux64\n'),
    ).to.equal('bld-linux64');
    expect(poolFromUserData('moz_instance_type: "try-linux64"\n')).to.equal('try-linux64');
  });

  for (const [what, text] of [
    ['a shell script', '#!/bin/bash\nmoz_instance_type=bld-linux64\n'],
    ['invalid YAML', 'moz_instance_type: [bld-linux64\n'],
    ['two YAML documents', 'moz_instance_type: a\n---\nmoz_instance_type: b\n'],
    ['a YAML list', '- moz_instance_type: bld-linux64\n'],
    ['a value that is not a string', 'moz_instance_type: 42\n'],
    ['an empty value', 'moz_instance_type: ""\n'],
    ['no such key', '#cloud-config\nhostname: x\n'],
    ['empty user data', ''],
  ] as const) {
    it(`finds no pool in ${what}`, () => expect(poolFromUserData(text)).to.equal(undefined));
  }

  it('bounds alias expansion (a "billion laughs" document is no pool, not a hang)', () => {
    const lines = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
    for (let n = 1; n < 10; n++)
      lines.push(
        `${String.fromCharCode(97 + n)}: &${String.fromCharCode(97 + n)} [${Array(9)
          .fill(`*${String.fromCharCode(96 + n)}`)
          .join(',')}]`,
      );
    lines.push('moz_instance_type: bld-linux64');
    expect(poolFromUserData(lines.join('\n'))).to.equal(undefined);
  });
});

describe('worker: the region of an availability zone', () => {
  for (const [zone, region] of [
    ['us-east-1a', 'us-east-1'],
    ['eu-central-1c', 'eu-central-1'],
    ['us-gov-west-1a', 'us-gov-west-1'],
    ['us-west-2-lax-1a', 'us-west-2'],
    ['ap-northeast-1-wl1-nrt-wlz-1', 'ap-northeast-1'],
  ] as const) {
    it(`${zone} → ${region}`, () => expect(regionOfZone(zone)).to.equal(region));
  }
  it('no region in a name that is not a zone', () => expect(regionOfZone('nowhere')).to.equal(undefined));
});
