// npm run try: a local stand-in for an AWS account, for trying the operator commands without one.
// Starts moto_server (Python moto 5: `pip install 'moto[server]'`) on a free loopback port, or uses
// the one given with --endpoint, and gives it what fleet reads: an image of the account's own, a
// manifest and desired counts in S3, a state prefix; then writes a config and a pool policy under
// .try/ and prints the commands to run. Everything lives in moto's memory: nothing reaches AWS.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DescribeSubnetsCommand, EC2Client, RegisterImageCommand } from '@aws-sdk/client-ec2';
import { motoClientConfig, startMoto } from '../test/support/moto.js';

const POOL = 'bld-linux64';
const BUCKET = 'fleet-try';

async function main(): Promise<void> {
  const given = argument('--endpoint');
  const moto = given === undefined ? await startMoto() : undefined;
  const endpoint = given ?? moto?.endpoint;
  if (endpoint === undefined) {
    process.stderr.write("moto_server is not installed: pip install 'moto[server]' (or pass --endpoint URL of a running one)\n");
    process.exit(2);
  }
  const client = motoClientConfig(endpoint);
  const ec2 = new EC2Client(client);
  const s3 = new S3Client({ ...client, forcePathStyle: true });

  const subnets = ((await ec2.send(new DescribeSubnetsCommand({ Filters: [{ Name: 'default-for-az', Values: ['true'] }] }))).Subnets ?? [])
    .map((s) => s.SubnetId as string)
    .slice(0, 2);
  // Registered by the account itself, so that the default imageOwners ["self"] launches it.
  const image = (name: string) =>
    ec2
      .send(new RegisterImageCommand({ Name: name, RootDeviceName: '/dev/xvda', Architecture: 'x86_64', VirtualizationType: 'hvm' }))
      .then((r) => r.ImageId as string);
  const older = await image(`${POOL}-2026-11-20`);
  const newer = await image(`${POOL}-2026-11-21`);
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  const put = (key: string, body: unknown) =>
    s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: JSON.stringify(body, null, 2) }));
  await put('amis.json', {
    images: [
      { id: older, pool: POOL, region: 'us-east-1', created: '2026-11-20T04:00:00Z', name: `${POOL}-2026-11-20` },
      { id: newer, pool: POOL, region: 'us-east-1', created: '2026-11-21T04:00:00Z', name: `${POOL}-2026-11-21` },
    ],
  });
  await put('desired.json', { [POOL]: 3 });

  const dir = resolve('.try');
  mkdirSync(join(dir, 'policies'), { recursive: true });
  writeFileSync(
    join(dir, 'config.json'),
    JSON.stringify(
      {
        fleet: 'try',
        regions: ['us-east-1'],
        manifest: `s3://${BUCKET}/amis.json`,
        desired: `s3://${BUCKET}/desired.json`,
        state: `s3://${BUCKET}/state/`,
        policies: 'policies',
        metrics: { port: 0 },
      },
      null,
      2,
    ),
  );
  writeFileSync(
    join(dir, 'policies', `${POOL}.json`),
    JSON.stringify(
      {
        pool: POOL,
        instanceTypes: ['c5.xlarge', 'm5.xlarge'],
        regions: { 'us-east-1': { subnets } },
        size: { min: 0, max: 10 },
        onDemandPrice: 0.17,
        names: `${POOL}-spot-{nnn}`,
      },
      null,
      2,
    ),
  );

  const env = `AWS_ENDPOINT_URL=${endpoint} AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_REGION=us-east-1 FLEET_CONFIG=${join(dir, 'config.json')}`;
  process.stdout.write(
    [
      `A stand-in AWS account is ready at ${endpoint} (moto: in memory, nothing reaches AWS).`,
      `Images ${older} (older) and ${newer} (newest) of pool ${POOL}; desired ${POOL}: 3.`,
      '',
      'In another shell, from this directory:',
      `  export ${env}`,
      '  npx fleet plan                      # three launches of the newest image, cheapest offer first',
      '  npx fleet reconcile --once          # one cycle: launches them',
      '  npx fleet status                    # the workers, their IPs and images',
      '  npx fleet amis list',
      `  npx fleet drain --ami ${newer} --reason "trying drains" --dry-run`,
      `  npx fleet drain --ami ${newer} --reason "trying drains" --now && npx fleet plan   # fleet falls back to ${older}`,
      '',
      moto ? 'Ctrl-C stops moto and forgets everything.' : '',
    ].join('\n') + '\n',
  );
  if (moto) {
    const stop = () => void moto.stop().then(() => process.exit(0));
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    if (process.argv.includes('--exit')) await moto.stop();
  }
}

function argument(name: string): string | undefined {
  const at = process.argv.indexOf(name);
  return at === -1 ? undefined : process.argv[at + 1];
}

await main();
