process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

import { randomBytes } from 'node:crypto';
import {
  CreateVpcCommand,
  DescribeImagesCommand,
  DescribeSubnetsCommand,
  DescribeVpcsCommand,
  EC2Client,
  EC2ServiceException,
  RunInstancesCommand,
  type _InstanceType,
} from '@aws-sdk/client-ec2';
import {
  CreateBucketCommand,
  GetObjectCommand,
  ListBucketsCommand,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { expect } from 'chai';
import { defaultStatus, startFaultProxy, type FaultProxy } from '../../support/fault-proxy.js';
import { motoClientConfig, motoEnv, startMoto, useMoto } from '../../support/moto.js';
import { rejection } from '../../support/expect.js';

function ec2Client(endpoint: string, maxAttempts = 1): EC2Client {
  return new EC2Client({ ...motoClientConfig(endpoint), maxAttempts });
}

function s3Client(endpoint: string): S3Client {
  return new S3Client({ ...motoClientConfig(endpoint), maxAttempts: 1, forcePathStyle: true });
}

describe('test support: startMoto without moto_server', function () {
  const savedCI = process.env.CI;
  afterEach(function () {
    if (savedCI === undefined) delete process.env.CI;
    else process.env.CI = savedCI;
  });

  it('resolves undefined outside CI so callers can skip', async function () {
    delete process.env.CI;
    expect(await startMoto({ command: 'fleet-no-such-moto-server' })).to.equal(undefined);
  });

  it('throws a one-line error under CI=true', async function () {
    process.env.CI = 'true';
    const err = await rejection(startMoto({ command: 'fleet-no-such-moto-server' }));
    expect(err).to.be.instanceOf(Error);
    expect(err.message)
      .to.match(/fleet-no-such-moto-server is not installed/)
      .and.not.include('\n');
  });
});

describe('test support: motoEnv', function () {
  it('points the SDK at the endpoint with fake credentials and no IMDS', function () {
    const env = motoEnv('http://127.0.0.1:1234');
    expect(env).to.include({
      AWS_ENDPOINT_URL: 'http://127.0.0.1:1234',
      AWS_ENDPOINT_URL_EC2: 'http://127.0.0.1:1234',
      AWS_ACCESS_KEY_ID: 'testing',
      AWS_SECRET_ACCESS_KEY: 'testing',
      AWS_REGION: 'us-east-1',
      AWS_EC2_METADATA_DISABLED: 'true',
    });
  });
});

describe('test support: fault proxy in front of moto', function () {
  this.timeout(30_000);
  const moto = useMoto(this);
  let proxy: FaultProxy;
  let ec2: EC2Client;
  let s3: S3Client;

  before(async function () {
    proxy = await startFaultProxy(moto().endpoint);
    ec2 = ec2Client(proxy.endpoint);
    s3 = s3Client(proxy.endpoint);
  });

  after(async function () {
    ec2?.destroy();
    s3?.destroy();
    await proxy?.close();
  });

  beforeEach(async function () {
    await moto().reset();
    proxy.clearRules();
    proxy.clearCalls();
  });

  async function launchInputs(): Promise<{ ImageId: string; SubnetId: string }> {
    const { Images = [] } = await ec2.send(new DescribeImagesCommand({}));
    const { Subnets = [] } = await ec2.send(new DescribeSubnetsCommand({}));
    const ImageId = Images[0]?.ImageId;
    const SubnetId = Subnets[0]?.SubnetId;
    if (ImageId === undefined || SubnetId === undefined) return expect.fail('moto offers no AMI or subnet');
    return { ImageId, SubnetId };
  }

  function runInstance(inputs: { ImageId: string; SubnetId: string }, InstanceType: _InstanceType = 't3.micro') {
    return ec2.send(new RunInstancesCommand({ ...inputs, InstanceType, MinCount: 1, MaxCount: 1 }));
  }

  it('passes EC2 calls through and logs them', async function () {
    const { Subnets = [] } = await ec2.send(new DescribeSubnetsCommand({}));

    expect(Subnets).to.not.be.empty;
    expect(proxy.calls).to.have.lengthOf(1);
    expect(proxy.calls[0]).to.deep.include({
      service: 'ec2',
      action: 'DescribeSubnets',
      faulted: false,
      status: 200,
      method: 'POST',
      path: '/',
    });
    expect(proxy.calls[0]?.params.get('Version')).to.be.a('string');
  });

  it('fails RunInstances with InsufficientInstanceCapacity, then lets it through after `times`', async function () {
    const inputs = await launchInputs();
    proxy.addRule({ action: 'RunInstances', code: 'InsufficientInstanceCapacity', message: 'no c5 today', times: 1 });

    const err = await rejection(runInstance(inputs));
    expect(err).to.be.instanceOf(EC2ServiceException);
    const serviceErr = err as EC2ServiceException;
    expect(serviceErr.name).to.equal('InsufficientInstanceCapacity');
    expect(serviceErr.message).to.equal('no c5 today');
    expect(serviceErr.$metadata.httpStatusCode).to.equal(500);
    expect(serviceErr.$metadata.httpStatusCode).to.equal(defaultStatus('InsufficientInstanceCapacity'));

    const { Instances = [] } = await runInstance(inputs);
    expect(Instances).to.have.lengthOf(1);

    const runs = proxy.calls.filter((c) => c.action === 'RunInstances');
    expect(runs.map((c) => [c.faulted, c.status])).to.deep.equal([
      [true, 500],
      [false, 200],
    ]);
  });

  it('honours an explicit status and a `when` predicate on the request params', async function () {
    const inputs = await launchInputs();
    proxy.addRule({
      action: 'RunInstances',
      code: 'InsufficientInstanceCapacity',
      status: 400,
      when: (params) => params.get('InstanceType') === 'c5.xlarge',
    });

    const { Instances = [] } = await runInstance(inputs, 't3.micro');
    expect(Instances).to.have.lengthOf(1);

    const err = (await rejection(runInstance(inputs, 'c5.xlarge'))) as EC2ServiceException;
    expect(err.name).to.equal('InsufficientInstanceCapacity');
    expect(err.$metadata.httpStatusCode).to.equal(400);
  });

  it('turns RequestLimitExceeded into a 503 error the SDK retries as throttling', async function () {
    proxy.addRule({ action: 'DescribeSubnets', code: 'RequestLimitExceeded', times: 1 });

    const err = (await rejection(ec2.send(new DescribeSubnetsCommand({})))) as EC2ServiceException;
    expect(err.name).to.equal('RequestLimitExceeded');
    expect(err.$metadata.httpStatusCode).to.equal(503);

    // With retries enabled the SDK's standard strategy retries it and succeeds.
    proxy.addRule({ action: 'DescribeSubnets', code: 'RequestLimitExceeded', times: 1 });
    const retrying = ec2Client(proxy.endpoint, 2);
    try {
      const { $metadata } = await retrying.send(new DescribeSubnetsCommand({}));
      expect($metadata.attempts).to.equal(2);
    } finally {
      retrying.destroy();
    }
  });

  it('passes S3 traffic through, including binary bodies and concurrent requests', async function () {
    const data = randomBytes(256 * 1024);
    proxy.addRule({ action: 'RunInstances', code: 'InternalError' }); // must not affect S3

    await s3.send(new CreateBucketCommand({ Bucket: 'fleet-state' }));
    await s3.send(new PutObjectCommand({ Bucket: 'fleet-state', Key: 'blob.bin', Body: data }));
    const objects = await Promise.all(
      Array.from({ length: 8 }, async () => {
        const { Body } = await s3.send(new GetObjectCommand({ Bucket: 'fleet-state', Key: 'blob.bin' }));
        return Buffer.from((await Body?.transformToByteArray()) ?? []);
      }),
    );

    for (const object of objects) expect(object.equals(data)).to.equal(true);
    const put = proxy.calls.find((c) => c.method === 'PUT' && c.path === '/fleet-state/blob.bin');
    expect(put).to.deep.include({ service: 's3', action: 'PUT /fleet-state/blob.bin', faulted: false, status: 200 });
    expect(proxy.calls.filter((c) => c.action === 'GET /fleet-state/blob.bin')).to.have.lengthOf(8);
  });

  it('faults S3 only when a rule names `${method} ${path}`, in S3 error format', async function () {
    await s3.send(new CreateBucketCommand({ Bucket: 'fleet-state' }));
    proxy.addRule({ action: 'GET /fleet-state/state.json', code: 'SlowDown', status: 503, times: 1 });

    const getState = () => s3.send(new GetObjectCommand({ Bucket: 'fleet-state', Key: 'state.json' }));

    const err = (await rejection(getState())) as S3ServiceException;
    expect(err).to.be.instanceOf(S3ServiceException);
    expect(err.name).to.equal('SlowDown');
    expect(err.$metadata.httpStatusCode).to.equal(503);

    const second = (await rejection(getState())) as S3ServiceException;
    expect(second.name).to.equal('NoSuchKey'); // moto's own answer once the rule is used up
  });

  it('resets moto state', async function () {
    const { Vpc } = await ec2.send(new CreateVpcCommand({ CidrBlock: '10.99.0.0/16' }));
    await s3.send(new CreateBucketCommand({ Bucket: 'fleet-reset-check' }));

    await moto().reset();

    const { Vpcs = [] } = await ec2.send(new DescribeVpcsCommand({}));
    expect(Vpcs.map((v) => v.VpcId)).to.not.include(Vpc?.VpcId);
    const { Buckets = [] } = await s3.send(new ListBucketsCommand({}));
    expect(Buckets.map((b) => b.Name)).to.not.include('fleet-reset-check');
  });
});
