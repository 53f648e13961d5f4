import { EC2Client } from '@aws-sdk/client-ec2';
import { PricingClient } from '@aws-sdk/client-pricing';
import type { Cloud, RegionCompute } from '../port.js';
import { Ec2Compute } from './ec2.js';
import { AwsPriceList } from './pricing.js';
import { S3Objects, s3Client } from './s3.js';
import { sqsEventQueue } from './sqs.js';

// Retries are fleet's own (cloud/retry.ts), paced by its limiter: the SDK makes one attempt.
const ONE_ATTEMPT = { maxAttempts: 1 } as const;
const TIMEOUTS = { requestHandler: { connectionTimeout: 5_000, requestTimeout: 30_000 } } as const;

/**
 * The AWS adapter. Credentials, region and endpoints come from the SDK's standard chain
 * (AWS_PROFILE, AWS_REGION, AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_EC2, AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL_SQS, ...).
 */
export function awsCloud(env: NodeJS.ProcessEnv = process.env): Cloud {
  const computes = new Map<string, RegionCompute>();
  const s3 = s3Client(env, { ...ONE_ATTEMPT, ...TIMEOUTS });
  // The Price List API is served from a few regions only; us-east-1 answers for all.
  const pricing = new PricingClient({ ...ONE_ATTEMPT, requestHandler: { connectionTimeout: 3_000, requestTimeout: 10_000 }, region: 'us-east-1' });
  return {
    compute(region: string): RegionCompute {
      let compute = computes.get(region);
      if (!compute) {
        compute = new Ec2Compute(region, new EC2Client({ ...ONE_ATTEMPT, ...TIMEOUTS, region }));
        computes.set(region, compute);
      }
      return compute;
    },
    objects: new S3Objects(s3),
    priceList: new AwsPriceList(pricing),
    events: (queueUrl: string) => sqsEventQueue(queueUrl, env),
  };
}
