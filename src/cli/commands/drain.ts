import type { Cause } from '../../domain/causes.js';
import { InputError } from '../../domain/errors.js';
import type { Snapshot } from '../../domain/snapshot.js';
import { isLive } from '../../domain/types.js';
import { recordDrains, recordTerminations } from '../../service/drains.js';
import { type GlobalOptions, awsRuntime, loadContext } from '../context.js';

export interface DrainOptions {
  readonly ami: string;
  readonly reason?: string;
  readonly now?: boolean;
  readonly dryRun?: boolean;
  readonly json?: boolean;
  readonly force?: boolean;
}

const AMI_ID = /^ami-[0-9a-zA-Z]{1,32}$/;

function checkAmi(ami: string): void {
  if (!AMI_ID.test(ami)) throw new InputError(`--ami: ${JSON.stringify(ami)} is not an AMI id`);
}

/**
 * Mark an AMI drained: it is never launched again, and the instances running it are retired by
 * the service within the drain budget, or here and now with --now.
 */
export async function drainCommand(global: GlobalOptions, options: DrainOptions): Promise<void> {
  checkAmi(options.ami);
  const ctx = loadContext(global, { logLevel: 'warn' });
  const dryRun = options.dryRun ?? false;
  const runtime = awsRuntime(ctx, { readOnly: dryRun });
  const { snapshot } = await runtime.observer.observe();
  if (!options.force) refuseUnknown(options.ami, snapshot);
  const affected = snapshot.instances.filter((i) => isLive(i) && i.ami === options.ami).sort((a, b) => a.name.localeCompare(b.name));
  const reason = options.reason ?? 'drained by an operator';
  const terminated: string[] = [];
  if (!dryRun) {
    await recordDrains(runtime.state, [{ ami: options.ami, reason, by: 'operator' }], snapshot.now);
    if (options.now && affected.length > 0) {
      await recordTerminations(
        runtime.state,
        affected.map((i) => i.id),
        snapshot.now,
      );
      for (const region of new Set(affected.map((i) => i.region))) {
        terminated.push(
          ...(await runtime.cloud.compute(region).terminate(
            ctx.config.fleet,
            affected.filter((i) => i.region === region).map((i) => i.id),
          )),
        );
      }
      for (const i of affected)
        ctx.log.info(
          {
            pool: i.pool,
            instance: i.id,
            name: i.name,
            region: i.region,
            cause: 'drain' satisfies Cause,
            reason: `drained AMI ${options.ami}: ${reason}`,
          },
          'terminate',
        );
    }
  }
  if (options.json) {
    const instances = affected.map((i) => ({
      id: i.id,
      name: i.name,
      pool: i.pool,
      region: i.region,
      az: i.az,
      state: i.state,
      terminated: terminated.includes(i.id),
    }));
    process.stdout.write(
      `${JSON.stringify({ ami: options.ami, reason, drained: !dryRun, now: options.now ?? false, dryRun, instances }, null, 2)}\n`,
    );
    return;
  }
  const lines = [
    dryRun ? `would drain ${options.ami} (${reason})` : `drained ${options.ami} (${reason}): it is never launched again`,
    affected.length === 0
      ? 'no managed instance runs it'
      : options.now
        ? `${dryRun ? 'would terminate now' : 'terminated'}:`
        : `${dryRun ? 'would be retired' : 'the service retires these'} within each pool's drain budget:`,
    ...affected.map(
      (i) =>
        `  ${i.id}  ${i.name}  ${i.pool}  ${i.az}  ${i.privateIp ?? '-'}${options.now && !dryRun && !terminated.includes(i.id) ? '  (left alone: not owned by this fleet)' : ''}`,
    ),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

/**
 * An AMI in no manifest, run by no managed instance and never drained is most likely a typo: marking
 * it would leave the real broken image running. Refused unless --force.
 */
function refuseUnknown(ami: string, snapshot: Snapshot): void {
  const known = snapshot.images?.some((i) => i.id === ami) || snapshot.instances.some((i) => i.ami === ami) || snapshot.drained.has(ami);
  if (known) return;
  const manifest = snapshot.images === undefined ? 'the manifest could not be read and ' : '';
  throw new InputError(
    `drain --ami ${ami}: ${manifest}fleet has never seen this AMI (in no manifest, run by no managed instance); check the id, or use --force to drain it anyway`,
  );
}

export async function undrainCommand(global: GlobalOptions, options: { ami: string; json?: boolean }): Promise<void> {
  checkAmi(options.ami);
  const ctx = loadContext(global, { logLevel: 'warn' });
  const runtime = awsRuntime(ctx, { readOnly: false });
  const { changed: wasDrained } = await recordDrains(runtime.state, [{ ami: options.ami, reason: '', by: 'operator' }], Date.now(), true);
  if (options.json) {
    process.stdout.write(`${JSON.stringify({ ami: options.ami, undrained: wasDrained })}\n`);
    return;
  }
  process.stdout.write(
    wasDrained ? `undrained ${options.ami}: it may be launched again when it is current\n` : `${options.ami} was not drained\n`,
  );
}
