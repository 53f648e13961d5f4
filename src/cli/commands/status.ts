import { isIP } from 'node:net';
import type { PoolPolicy } from '../../domain/policy.js';
import { describeDemand } from '../../plan/demand.js';
import { describeRollout } from '../../plan/rollouts.js';
import { type StatusView, statusView } from '../../plan/status.js';
import { formatName, slotOf } from '../../policy/names.js';
import { type GlobalOptions, awsRuntime, loadContext } from '../context.js';
import { formatAge, formatPrice, printable, table } from '../table.js';

export interface StatusOptions {
  readonly pool?: string;
  readonly region?: string;
  readonly json?: boolean;
  readonly hosts?: boolean;
  readonly all?: boolean;
}

/**
 * hosts-file lines for places with no DNS: "10.0.1.4 bld-linux64-spot-001". Operators append this to
 * /etc/hosts, and a Name tag is anyone's to write: only a pool's own slot names and real addresses
 * are printed, so a tag can never add a line or another host name.
 */
export function hostsLines(view: StatusView, policies: readonly PoolPolicy[]): string {
  const templates = new Map(policies.map((p) => [p.pool, p.names]));
  return view.instances
    .filter((i) => i.privateIp && isIP(i.privateIp) !== 0 && (i.state === 'running' || i.state === 'pending'))
    .filter((i) => isSlotName(templates.get(i.pool), i.name))
    .map((i) => `${i.privateIp} ${i.name}`)
    .join('\n');
}

function isSlotName(template: string | undefined, name: string): boolean {
  const slot = template === undefined ? undefined : slotOf(template, name);
  return slot !== undefined && formatName(template as string, slot) === name;
}

/** A worker asked to leave shows its deadline and why beside its state. */
const stateCell = (i: StatusView['instances'][number]) =>
  i.retireBy === undefined ? i.state : `${i.state}, leaving by ${i.retireBy} (${i.retireCause ?? 'asked'})`;

export function statusTable(view: StatusView): string {
  const rows = [
    ...view.instances.map((i) => [
      i.name,
      i.pool,
      i.id,
      i.region,
      i.az,
      i.instanceType,
      i.lifecycle,
      stateCell(i),
      i.privateIp,
      i.publicIp,
      i.ami,
      i.amiStatus,
      formatAge(i.age),
    ]),
    ...view.pendingLaunches.map((p) => [
      p.name,
      p.pool,
      p.instanceId,
      p.region,
      p.az,
      p.instanceType,
      p.lifecycle,
      'launching',
      null,
      null,
      p.ami,
      '-',
      '-',
    ]),
  ];
  const lines = [
    rows.length === 0
      ? 'No managed instances.'
      : table(
          ['NAME', 'POOL', 'ID', 'REGION', 'AZ', 'TYPE', 'LIFECYCLE', 'STATE', 'PRIVATE IP', 'PUBLIC IP', 'AMI', 'AMI STATUS', 'AGE'],
          rows,
        ),
    '',
    ...view.pools.flatMap((p) => [
      printable(
        `${p.pool}: desired ${p.desired ?? '?'} / running ${p.running} / pending ${p.pending} / spot ${p.spot} / on-demand ${p.onDemand} / outdated ${p.outdated} / ${p.costPerHour === null ? `cost unknown (${p.costUnknown})` : `${formatPrice(p.costPerHour)} per hour`}`,
      ),
      ...(p.demand ? [printable(`  demand ${describeDemand(p.demand)}`)] : []),
      ...(p.rollouts ?? []).map((r) => `  image ${printable(describeRollout(r))}`),
      ...(p.unusableImages ?? []).map((i) => printable(`  image ${i.id} in ${i.region} is never launched: ${i.reason}`)),
    ]),
  ];
  return lines.join('\n');
}

export async function statusCommand(global: GlobalOptions, options: StatusOptions): Promise<void> {
  const ctx = loadContext(global, { logLevel: 'warn' });
  const runtime = awsRuntime(ctx, { readOnly: true });
  const { snapshot } = await runtime.observer.observe();
  const view = statusView(snapshot, ctx.policies, {
    ...(options.pool ? { pool: options.pool } : {}),
    ...(options.region ? { region: options.region } : {}),
    all: options.all ?? false,
  });
  const out = options.hosts ? hostsLines(view, ctx.policies) : options.json ? JSON.stringify(view, null, 2) : statusTable(view);
  if (out !== '') process.stdout.write(`${out}\n`);
}
