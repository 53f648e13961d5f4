import type { Action } from '../../domain/actions.js';
import { RuntimeFailure } from '../../domain/errors.js';
import type { Plan } from '../../plan/plan.js';
import { describeRollout } from '../../plan/rollouts.js';
import { type GlobalOptions, awsRuntime, loadContext } from '../context.js';
import { formatPrice, printable, table } from '../table.js';

/** The documented `fleet plan --json` shape: fields that do not apply to a kind are omitted. */
export function actionJson(a: Action): Record<string, unknown> {
  const common = { kind: a.kind, pool: a.pool, region: a.region, az: a.az, instanceType: a.instanceType, lifecycle: a.lifecycle, ami: a.ami, name: a.name };
  const price = a.price !== undefined ? { price: Math.round(a.price * 1e6) / 1e6 } : {};
  return a.kind === 'launch'
    ? { ...common, subnetId: a.subnetId, ...price, cause: a.cause, reason: a.reason, ...(a.replaces ? { replaces: a.replaces } : {}) }
    : { ...common, instanceId: a.instanceId, ...price, cause: a.cause, reason: a.reason };
}

export function planJson(p: Plan): Record<string, unknown> {
  return {
    actions: p.actions.map(actionJson),
    pools: p.pools.map((r) => ({ pool: r.pool, desired: r.desired, live: r.live, running: r.running, pending: r.pending, spot: r.spot, onDemand: r.onDemand, unmet: r.unmet, notes: r.notes, rollouts: r.rollouts })),
    ...(p.blocked ? { blocked: p.blocked } : {}),
  };
}

export function planTable(p: Plan): string {
  const lines: string[] = [];
  if (p.blocked) lines.push(printable(`BLOCKED: ${p.blocked}`));
  lines.push(
    p.actions.length === 0
      ? 'No changes: the fleet matches the desired state.'
      : table(
          ['ACTION', 'POOL', 'NAME', 'REGION', 'AZ', 'TYPE', 'LIFECYCLE', 'PRICE', 'AMI/INSTANCE', 'REASON'],
          p.actions.map((a) => [a.kind, a.pool, a.name, a.region, a.az, a.instanceType, a.lifecycle, formatPrice(a.price), a.kind === 'launch' ? a.ami : a.instanceId, a.reason]),
        ),
  );
  if (p.pools.length > 0) {
    lines.push('', table(['POOL', 'DESIRED', 'LIVE', 'SPOT', 'ON-DEMAND', 'UNMET', 'NOTES'], p.pools.map((r) => [r.pool, r.desired, r.live, r.spot, r.onDemand, r.unmet, r.notes.join('; ')])));
    const staged = p.pools.flatMap((r) => r.rollouts.filter((ro) => ro.candidate !== undefined).map((ro) => printable(`${r.pool} image ${describeRollout(ro)}`)));
    if (staged.length > 0) lines.push('', ...staged);
  }
  return lines.join('\n');
}

/** A plan that may not act (no usable inputs) is a runtime failure of the command: exit 1. */
export class PlanBlocked extends RuntimeFailure {}

export async function planCommand(global: GlobalOptions, options: { json?: boolean }): Promise<void> {
  const ctx = loadContext(global, { logLevel: 'warn' });
  const runtime = awsRuntime(ctx, { readOnly: true });
  const { plan } = await runtime.reconciler.planOnly();
  process.stdout.write(`${options.json ? JSON.stringify(planJson(plan), null, 2) : planTable(plan)}\n`);
  if (plan.blocked) throw new PlanBlocked(plan.blocked);
}
