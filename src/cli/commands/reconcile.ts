import type { Outcome } from '../../domain/outcome.js';
import { runLoop } from '../../service/loop.js';
import type { CycleResult } from '../../service/reconciler.js';
import { type GlobalOptions, awsRuntime, loadContext } from '../context.js';
import { planTable } from './plan.js';

export function cycleSummary(result: CycleResult): string {
  if (result.dryRun) return `dry run: nothing changed\n${planTable(result.plan)}`;
  const launches = result.outcomes.flatMap((o: Outcome) => o.launches);
  const terminations = result.outcomes.flatMap((o: Outcome) => o.terminations);
  const launched = launches.filter((l) => l.instance).length;
  const failed = launches.filter((l) => l.failure).length;
  const terminated = terminations.filter((t) => t.terminated).length;
  const parts = [`launched ${launched}`, `terminated ${terminated}`];
  if (failed > 0) parts.push(`launch failures ${failed}`);
  if (result.plan.blocked) parts.push(`blocked: ${result.plan.blocked}`);
  return parts.join(', ');
}

export async function reconcileCommand(global: GlobalOptions, options: { once?: boolean; dryRun?: boolean }): Promise<void> {
  const ctx = loadContext(global);
  const dryRun = options.dryRun ?? false;
  const runtime = awsRuntime(ctx, { readOnly: dryRun });
  if (options.once) {
    const result = await runtime.reconciler.cycle({ dryRun });
    process.stdout.write(`${cycleSummary(result)}\n`);
    return;
  }
  const stop = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    ctx.log.info({ signal }, 'stopping after the action in flight');
    stop.abort();
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  ctx.log.info({ fleet: ctx.config.fleet, regions: ctx.config.regions, interval: ctx.config.interval, dryRun }, 'reconcile service started');
  await runLoop({ reconciler: runtime.reconciler, intervalMs: ctx.config.interval * 1000, dryRun, log: ctx.log, signal: stop.signal });
}
