import { existsSync, readdirSync } from 'node:fs';
import { loadConfig } from '../../config/config.js';
import { loadPolicies } from '../../config/policies.js';
import type { PoolPolicy } from '../../domain/policy.js';
import { InputError } from '../../domain/errors.js';
import type { Verdict } from '../../policy/verdict.js';
import { createLogger, silentLogger } from '../../service/logger.js';
import { type CheckAmiResult, checkAmi } from '../../worker/check-ami.js';
import type { GlobalOptions } from '../context.js';

/** The exit status of each verdict: a boot script powers the worker off on 3 and 4 only. */
export const VERDICT_EXIT: Readonly<Record<Verdict, number>> = { launchable: 0, unknown: 1, outdated: 3, drained: 4 };

/**
 * Run on a worker at boot: would fleet launch this worker's image for its pool and region now?
 * Needs the config's manifest and state locations; the pool policies when the worker carries them
 * (a pool with `freshness.canary: 0` stages no rollout), otherwise every pool stages one, which only
 * ever widens what is launchable. Returns the exit status; configuration errors are thrown as
 * InputError (exit 2).
 */
export async function checkAmiCommand(global: GlobalOptions, options: { json?: boolean }): Promise<number> {
  const config = loadConfig(global.config);
  if (config.manifest === '') throw new InputError('config manifest: not set (s3://bucket/key, https://... or a file; env FLEET_MANIFEST)');
  // The one output line says it all; the input readers' own logs only with --debug.
  const log = global.debug ? createLogger('debug') : silentLogger();
  const result = await checkAmi(config, log, process.env, workerPolicies(config.policies));
  process.stdout.write(`${options.json ? JSON.stringify(jsonOf(result)) : textOf(result)}\n`);
  return VERDICT_EXIT[result.verdict];
}

/** The policies, when the worker has them: their absence is not an error on a worker (a bad one is). */
function workerPolicies(dir: string): PoolPolicy[] {
  const carried = existsSync(dir) && readdirSync(dir).some((f) => f.endsWith('.json'));
  return carried ? loadPolicies(dir) : [];
}

function jsonOf(r: CheckAmiResult): Record<string, unknown> {
  return { instanceId: r.instanceId, ami: r.ami, pool: r.pool, region: r.region, verdict: r.verdict, reason: r.reason, name: r.name };
}

/** One line for a boot log. */
function textOf(r: CheckAmiResult): string {
  const who =
    r.instanceId === null
      ? []
      : [
          [r.instanceId, r.name].filter(Boolean).join(' '),
          ...(r.pool === null ? [] : [`pool ${r.pool}`]),
          ...(r.region === null ? [] : [r.region]),
        ];
  const context = [...who, ...r.notes];
  return `fleet check-ami: ${r.verdict} (exit ${VERDICT_EXIT[r.verdict]}): ${r.reason}${context.length > 0 ? ` [${context.join('; ')}]` : ''}`;
}
