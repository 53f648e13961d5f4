import { requireInputs } from '../../config/config.js';
import type { Budget, MaxPrice, Spread } from '../../domain/policy.js';
import { configWarnings } from '../../config/warnings.js';
import { redactLocation } from '../../service/location.js';
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
    config: { ...ctx.config, manifest: redactLocation(ctx.config.manifest), desired: redactLocation(ctx.config.desired), state: redactLocation(ctx.config.state) },
    policies: ctx.policies.map((p) => ({
      ...p,
      // User data can carry secrets (tokens, passwords): never printed.
      ...(p.userData !== undefined ? { userData: `<redacted: ${Buffer.byteLength(p.userData)} bytes>` } : {}),
      spot: { ...p.spot, maxPrice: maxPrice(p.spot.maxPrice) },
      onDemand: { ...p.onDemand, replaceBudget: budget(p.onDemand.replaceBudget) },
      freshness: { ...p.freshness, retireBudget: budget(p.freshness.retireBudget), drainBudget: budget(p.freshness.drainBudget), canary: budget(p.freshness.canary) },
      rebalance: { ...p.rebalance, minSaving: `${Math.round(p.rebalance.minSaving * 1000) / 10}%`, budget: budget(p.rebalance.budget) },
      spread: spread(p.spread),
    })),
  };
  if (options.json) {
    process.stdout.write(`${JSON.stringify(effective, null, 2)}\n`);
    return;
  }
  process.stdout.write(`config OK: fleet ${ctx.config.fleet}, ${ctx.policies.length} pool(s): ${ctx.policies.map((p) => p.pool).join(', ')}\n`);
  for (const warning of configWarnings(ctx.config, ctx.policies)) process.stdout.write(`warning: ${warning}\n`);
  process.stdout.write(`${JSON.stringify(effective, null, 2)}\n`);
}
