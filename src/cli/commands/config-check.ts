import { requireInputs } from '../../config/config.js';
import type { Budget, MaxPrice, PoolPolicy, Spread } from '../../domain/policy.js';
import { InputError } from '../../domain/errors.js';
import { offeredInstanceTypes } from '../../cloud/aws/instance-types.js';
import { configWarnings } from '../../config/warnings.js';
import { redactLocation } from '../../shared/location.js';
import { type GlobalOptions, loadContext } from '../context.js';

const budget = (b: Budget) => (b.kind === 'percent' ? `${b.value}%` : b.value);
const spread = (s: Spread) => (s.auto ? 'auto' : budget(s));
const maxPrice = (m: MaxPrice) => (m.kind === 'percent' ? `${m.value}%` : m.value);

/** Validate config and policies; print the effective configuration with secrets redacted. */
export async function configCheckCommand(global: GlobalOptions, options: { json?: boolean }): Promise<void> {
  const ctx = loadContext(global, { logLevel: 'warn' });
  requireInputs(ctx.config);
  const effective = {
    // A presigned or basic-auth URL carries its secret in the query string or user:password.
    config: {
      ...ctx.config,
      manifest: redactLocation(ctx.config.manifest),
      desired: redactLocation(ctx.config.desired),
      state: redactLocation(ctx.config.state),
    },
    policies: ctx.policies.map((p) => ({
      ...p,
      // User data can carry secrets (tokens, passwords): never printed.
      ...(p.userData !== undefined ? { userData: `<redacted: ${Buffer.byteLength(p.userData)} bytes>` } : {}),
      spot: { ...p.spot, maxPrice: maxPrice(p.spot.maxPrice) },
      onDemand: { ...p.onDemand, replaceBudget: budget(p.onDemand.replaceBudget) },
      freshness: {
        ...p.freshness,
        retireBudget: budget(p.freshness.retireBudget),
        drainBudget: budget(p.freshness.drainBudget),
        canary: budget(p.freshness.canary),
      },
      rebalance: { ...p.rebalance, minSaving: `${Math.round(p.rebalance.minSaving * 1000) / 10}%`, budget: budget(p.rebalance.budget) },
      spread: spread(p.spread),
    })),
  };
  if (options.json) {
    await instanceTypeProblems(ctx.policies, ctx.config.regions);
    process.stdout.write(`${JSON.stringify(effective, null, 2)}\n`);
    return;
  }
  const typeProblems = await instanceTypeProblems(ctx.policies, ctx.config.regions);
  process.stdout.write(
    `config OK: fleet ${ctx.config.fleet}, ${ctx.policies.length} pool(s): ${ctx.policies.map((p) => p.pool).join(', ')}\n`,
  );
  for (const warning of [...configWarnings(ctx.config, ctx.policies), ...typeProblems]) process.stdout.write(`warning: ${warning}\n`);
  process.stdout.write(`${JSON.stringify(effective, null, 2)}\n`);
}

const TYPE_CHECK_TIMEOUT_MS = 5_000;

/**
 * Instance types a policy names that EC2 does not offer in its regions: refused (exit 2) when EC2
 * answers; when it cannot be asked, a warning, so config check works anywhere.
 */
async function instanceTypeProblems(policies: readonly PoolPolicy[], regions: readonly string[]): Promise<string[]> {
  const byRegion = new Map<string, Set<string>>();
  for (const p of policies) {
    for (const region of Object.keys(p.regions).filter((r) => regions.includes(r))) {
      const types = byRegion.get(region) ?? new Set<string>();
      for (const t of p.instanceTypes) types.add(t.type);
      byRegion.set(region, types);
    }
  }
  const checks = await Promise.all(
    [...byRegion].map(async ([region, types]) => ({
      region,
      check: await offeredInstanceTypes(region, [...types], TYPE_CHECK_TIMEOUT_MS),
    })),
  );
  const warnings: string[] = [];
  for (const { region, check } of checks) {
    if ('unreachable' in check) {
      warnings.push(`instance types not checked in ${region}: EC2 could not be asked (${check.unreachable})`);
      continue;
    }
    for (const p of policies) {
      const missing = p.regions[region] ? p.instanceTypes.map((t) => t.type).filter((t) => !check.offered.has(t)) : [];
      if (missing.length > 0)
        throw new InputError(`policy ${p.pool}: instanceTypes ${missing.join(', ')}: not offered by EC2 in ${region} (a typo?)`);
    }
  }
  return warnings;
}
