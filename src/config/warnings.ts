import type { PoolPolicy } from '../domain/policy.js';
import type { FleetConfig } from './config.js';

/** Things that are valid but probably not meant: config check prints them, the service logs them. */
export function configWarnings(config: FleetConfig, policies: readonly PoolPolicy[]): string[] {
  const warnings: string[] = [];
  for (const policy of policies) {
    const regions = Object.keys(policy.regions);
    const unmanaged = regions.filter((r) => !config.regions.includes(r));
    if (unmanaged.length === regions.length) {
      warnings.push(
        `pool ${policy.pool}: none of its regions (${regions.join(', ')}) is managed (config regions: ${config.regions.join(', ')}); it can never launch`,
      );
    } else if (unmanaged.length > 0) {
      warnings.push(`pool ${policy.pool}: regions ${unmanaged.join(', ')} are not in config regions and are ignored`);
    }
    if (policy.onDemand.max === 0) warnings.push(`pool ${policy.pool}: onDemand.max is 0, so spot shortfalls never fall back to on-demand`);
  }
  return warnings;
}
