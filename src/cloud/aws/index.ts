import { EC2Client } from '@aws-sdk/client-ec2';
import { PricingClient } from '@aws-sdk/client-pricing';
import { type Logger, pino } from 'pino';
import { anySignal, type Bounds, bounds as defaultBounds, deadlineExceeded, deadlineSignal } from '../bounds.js';
import type { Cloud, RegionCompute } from '../port.js';
import { type Shutdown, processShutdown } from '../shutdown.js';
import { type ClientLimits, bounded, boundedConfig } from './bounded.js';
import { Ec2Compute } from './ec2.js';
import { AwsPriceList } from './pricing.js';
import { S3Objects, s3Client } from './s3.js';
import { sqsEventQueue } from './sqs.js';

// Retries are fleet's own (cloud/retry.ts), paced by its limiter: the SDK makes one attempt.
const ONE_ATTEMPT = { maxAttempts: 1 } as const;

export interface AwsCloudOptions {
  readonly env?: NodeJS.ProcessEnv;
  /** the SDK's diagnostics go here, as JSON lines */
  readonly log?: Logger;
  /** aborts every call in flight (SIGTERM/SIGINT) */
  readonly shutdown?: Shutdown;
  readonly bounds?: Bounds;
}

/**
 * The AWS adapter. Credentials, region and endpoints come from the SDK's standard chain
 * (AWS_PROFILE, AWS_REGION, AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_EC2, AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL_SQS, ...).
 * Every call is bounded here, in one place (docs/bounds.md): connect and request timeouts per
 * attempt, a deadline for the whole call with its retries, and the process's shutdown signal.
 */
export function awsCloud(options: AwsCloudOptions = {}): Cloud {
  const env = options.env ?? process.env;
  const shutdown = options.shutdown ?? processShutdown;
  const limitsOf = (service: string, b: ClientLimits['bounds']): ClientLimits => ({
    service,
    bounds: b,
    abort: () => shutdown.signal,
    log: options.log ?? pino({ level: 'silent' }),
  });
  const all = options.bounds ?? defaultBounds(env);
  const ec2 = limitsOf('EC2', all.ec2);
  const s3Limits = limitsOf('S3', all.s3);
  const computes = new Map<string, RegionCompute>();
  const s3 = bounded(s3Client(env, { ...ONE_ATTEMPT, ...boundedConfig(s3Limits) }), s3Limits);
  // The Price List API is served from a few regions only; us-east-1 answers for all.
  const pricingLimits = limitsOf('the Price List API', all.pricing);
  const pricing = bounded(new PricingClient({ ...ONE_ATTEMPT, ...boundedConfig(pricingLimits), region: 'us-east-1' }), pricingLimits);
  const sqs = limitsOf('SQS', all.sqs);
  // One signal per whole call, its retries included: the guarded cloud hands it to every attempt.
  const wholeCall = (limits: ClientLimits) => () =>
    anySignal([
      limits.abort(),
      deadlineSignal(limits.bounds.totalMs, deadlineExceeded(`${limits.service} (retries included)`, limits.bounds.totalMs)),
    ]);
  return {
    compute(region: string): RegionCompute {
      let compute = computes.get(region);
      if (!compute) {
        compute = new Ec2Compute(region, bounded(new EC2Client({ ...ONE_ATTEMPT, ...boundedConfig(ec2), region }), ec2));
        computes.set(region, compute);
      }
      return compute;
    },
    objects: new S3Objects(s3),
    priceList: new AwsPriceList(pricing),
    events: (queueUrl: string) => sqsEventQueue(queueUrl, env, sqs),
    deadlines: { compute: wholeCall(ec2), objects: wholeCall(s3Limits) },
  };
}
