import type { Logger } from 'pino';
import { awsCloud } from '../cloud/aws/index.js';
import { sqsClientFor } from '../cloud/aws/sqs.js';
import { SqsDepthSource } from '../demand/sqs.js';
import { type FleetConfig, loadConfig, requireInputs } from '../config/config.js';
import { loadPolicies } from '../config/policies.js';
import { systemClock } from '../domain/clock.js';
import type { PoolPolicy } from '../domain/policy.js';
import { createLogger } from '../service/logger.js';
import { type Runtime, type RuntimeOptions, createRuntime } from '../service/runtime.js';

export interface GlobalOptions {
  readonly config?: string;
  readonly debug?: boolean;
}

export interface Context {
  readonly config: FleetConfig;
  readonly policies: PoolPolicy[];
  readonly log: Logger;
}

/** Config and policies, validated: any problem is an InputError (exit 2). */
export function loadContext(options: GlobalOptions, { logLevel }: { logLevel?: string } = {}): Context {
  const config = loadConfig(options.config);
  const policies = loadPolicies(config.policies);
  const log = createLogger(options.debug ? 'debug' : (logLevel ?? config.log.level));
  return { config, policies, log };
}

/** A runtime against real AWS (or whatever the SDK's endpoint variables point at). */
export function awsRuntime(ctx: Context, { readOnly, leaseFor }: { readOnly: boolean; leaseFor?: RuntimeOptions['leaseFor'] }): Runtime {
  requireInputs(ctx.config);
  return createRuntime({
    config: ctx.config,
    policies: ctx.policies,
    cloud: awsCloud({ log: ctx.log }),
    clock: systemClock,
    log: ctx.log,
    random: Math.random,
    readOnly,
    sqsDepth: (pool, queueUrl) => new SqsDepthSource(pool, queueUrl, sqsClientFor(queueUrl)),
    ...(leaseFor ? { leaseFor } : {}),
  });
}
