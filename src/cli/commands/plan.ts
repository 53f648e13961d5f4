import type { Action } from '../../domain/actions.js';
import { RuntimeFailure } from '../../domain/errors.js';
import type { Plan } from '../../plan/plan.js';
import type { Observation } from '../../service/observe.js';
import { describeDemand } from '../../plan/demand.js';
import { describeRollout } from '../../plan/rollouts.js';
import { type GlobalOptions, awsRuntime, loadContext } from '../context.js';
import { formatPrice, printable, table } from '../table.js';

/** The documented `fleet plan --json` shape: fields that do not apply to a kind are omitted. */
export function actionJson(a: Action): Record<string, unknown> {
  const common = {
    kind: a.kind,
    pool: a.pool,
    region: a.region,
    az: a.az,
    instanceType: a.instanceType,
    lifecycle: a.lifecycle,
    ami: a.ami,
    name: a.name,
  };
  const price = a.price !== undefined ? { price: Math.round(a.price * 1e6) / 1e6 } : {};
  return a.kind === 'launch'
    ? { ...common, subnetId: a.subnetId, ...price, cause: a.cause, reason: a.reason, ...(a.replaces ? { replaces: a.replaces } : {}) }
    : {
        ...common,
        instanceId: a.instanceId,
        ...price,
        cause: a.cause,
        reason: a.reason,
        ...(a.kind === 'retire' ? { deadline: new Date(a.deadline).toISOString() } : {}),
        ...(a.kind === 'terminate' && a.retireEnd !== undefined ? { retireEnd: a.retireEnd } : {}),
        ...(a.kind === 'terminate' && a.standsInFor !== undefined
          ? { standsInFor: { replacement: a.standsInFor.replacement, busy: a.standsInFor.busy } }
          : {}),
      };
}

/** Why a fresh copy of an input was not used this time (the plan then runs on the last good copy, or not at all). */
export type InputProblems = Observation['inputProblems'];

export function planJson(p: Plan, problems: InputProblems = {}): Record<string, unknown> {
  return {
    actions: p.actions.map(actionJson),
    pools: p.pools.map((r) => ({
      pool: r.pool,
      desired: r.desired,
      live: r.live,
      running: r.running,
      pending: r.pending,
      spot: r.spot,
      onDemand: r.onDemand,
      unmet: r.unmet,
      notes: r.notes,
      rollouts: r.rollouts,
      ...(r.demand ? { demand: r.demand } : {}),
    })),
    ...(p.blocked ? { blocked: p.blocked } : {}),
    ...(problems && Object.keys(problems).length > 0 ? { inputProblems: problems } : {}),
  };
}

/**
 * The lines above the action table. They never contradict the pool table: "matches" only when no
 * pool is short of or above its desired size and nothing is blocked.
 */
export function planHeadline(p: Plan, problems: InputProblems = {}): string[] {
  const lines = Object.entries(problems ?? {}).map(
    ([input, problem]) => `INPUT ${input}: ${problem}; ${p.blocked ? 'no good copy to fall back on' : 'using the last good copy'}`,
  );
  if (p.blocked) return [...lines, `BLOCKED: ${p.blocked}`];
  const terminating = new Set(p.actions.filter((a) => a.kind !== 'launch').map((a) => a.pool));
  const launching = new Set(p.actions.filter((a) => a.kind === 'launch').map((a) => a.pool));
  for (const r of p.pools) {
    if (r.unmet > 0)
      lines.push(
        `UNMET: ${r.pool} short of desired by ${r.unmet} after this plan (desired ${r.desired}, live ${r.live}): ${r.notes.join('; ') || 'no offer can be placed'}`,
      );
    else if (r.live > r.desired && !terminating.has(r.pool) && !launching.has(r.pool))
      lines.push(
        `SURPLUS: ${r.pool} ${r.live - r.desired} above desired (desired ${r.desired}, live ${r.live}): ${r.notes.join('; ') || 'nothing leaves this cycle'}`,
      );
  }
  if (p.actions.length === 0)
    lines.push(lines.length === 0 ? 'No changes: the fleet matches the desired state.' : 'No changes this cycle.');
  return lines;
}

export function planTable(p: Plan, problems: InputProblems = {}): string {
  const lines: string[] = planHeadline(p, problems).map(printable);
  if (p.actions.length > 0) {
    lines.push(
      table(
        ['ACTION', 'POOL', 'NAME', 'REGION', 'AZ', 'TYPE', 'LIFECYCLE', 'PRICE', 'AMI/INSTANCE', 'REASON'],
        p.actions.map((a) => [
          a.kind,
          a.pool,
          a.name,
          a.region,
          a.az,
          a.instanceType,
          a.lifecycle,
          formatPrice(a.price),
          a.kind === 'launch' ? a.ami : a.instanceId,
          a.reason,
        ]),
      ),
    );
  }
  if (p.pools.length > 0) {
    lines.push(
      '',
      table(
        ['POOL', 'DESIRED', 'LIVE', 'SPOT', 'ON-DEMAND', 'UNMET', 'NOTES'],
        p.pools.map((r) => [r.pool, r.desired, r.live, r.spot, r.onDemand, r.unmet, r.notes.join('; ')]),
      ),
    );
    const demand = p.pools.flatMap((r) => (r.demand ? [printable(`DEMAND: ${r.pool} ${describeDemand(r.demand)}`)] : []));
    if (demand.length > 0) lines.push('', ...demand);
    const staged = p.pools.flatMap((r) =>
      r.rollouts.filter((ro) => ro.candidate !== undefined).map((ro) => printable(`${r.pool} image ${describeRollout(ro)}`)),
    );
    if (staged.length > 0) lines.push('', ...staged);
  }
  return lines.join('\n');
}

/** A plan that may not act (no usable inputs) is a runtime failure of the command: exit 1. */
export class PlanBlocked extends RuntimeFailure {}

export async function planCommand(global: GlobalOptions, options: { json?: boolean }): Promise<void> {
  const ctx = loadContext(global, { logLevel: 'warn' });
  const runtime = awsRuntime(ctx, { readOnly: true });
  const { plan, observation } = await runtime.reconciler.planOnly();
  const problems = observation.inputProblems ?? {};
  process.stdout.write(`${options.json ? JSON.stringify(planJson(plan, problems), null, 2) : planTable(plan, problems)}\n`);
  if (plan.blocked) throw new PlanBlocked(plan.blocked);
}
