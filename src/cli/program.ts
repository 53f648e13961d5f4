import { readFileSync } from 'node:fs';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { CloudError, classify } from '../cloud/errors.js';
import { InputError, RuntimeFailure } from '../domain/errors.js';
import { amisListCommand, amisPruneCommand } from './commands/amis.js';
import { checkAmiCommand } from './commands/check-ami.js';
import { configCheckCommand } from './commands/config-check.js';
import { drainCommand, undrainCommand } from './commands/drain.js';
import { planCommand } from './commands/plan.js';
import { reconcileCommand } from './commands/reconcile.js';
import { simCommand } from './commands/sim.js';
import { statusCommand } from './commands/status.js';
import { pollSeconds, workerCommand } from './commands/worker.js';
import type { GlobalOptions } from './context.js';
import { OPTION_BOUNDS, intIn, numberIn } from './options.js';

export const EXIT = { ok: 0, failure: 1, usage: 2 } as const;

export function positiveInteger(value: string, what = 'value'): number {
  if (!/^\d+$/.test(value) || Number(value) <= 0) throw new InvalidArgumentError(`${what} must be a positive integer`);
  return Number(value);
}

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string };
  return pkg.version ?? 'unknown';
}

/** Validate an option but keep its text: the command parses the string it always got. */
function checked(parse: (value: string) => unknown): (value: string) => string {
  return (value) => {
    parse(value);
    return value;
  };
}

/** `exitWith` lets a command end with a status of its own (check-ami's verdicts). */
function program(exitWith: (status: number) => void): Command {
  const fleet = new Command('fleet')
    .description('Keeps pools of EC2 spot workers at their desired size, on the freshest golden AMI.')
    .addOption(new Option('-c, --config <file>', 'configuration file (env FLEET_CONFIG)').default(undefined, 'config/default.json'))
    .option('--debug', 'debug logs, and a stack trace on errors')
    .version(packageVersion(), '--version', 'print the version')
    // A usage mistake is one line; the help only on --help.
    .configureOutput({ outputError: (text, write) => write(`fleet: ${text.trim().split('\n')[0]}\n`) })
    .exitOverride();
  const global = (cmd: Command): GlobalOptions => cmd.optsWithGlobals<GlobalOptions>();

  fleet
    .command('reconcile')
    .description('observe → plan → act every interval until SIGTERM/SIGINT')
    .option('--once', 'run one cycle and exit')
    .option('--dry-run', 'plan and log; never change anything')
    .action((options, cmd: Command) => reconcileCommand(global(cmd), options));

  fleet
    .command('plan')
    .description('one observation and the plan it yields; changes nothing')
    .option('--json', 'machine-readable output')
    .action((options, cmd: Command) => planCommand(global(cmd), options));

  fleet
    .command('status')
    .description('managed instances, pending launches and per-pool totals')
    .option('--pool <pool>', 'only this pool')
    .option('--region <region>', 'only this region')
    .option('--json', 'machine-readable output')
    .option('--hosts', 'hosts-file lines (private IP and name) for places with no DNS')
    .option('--all', 'include instances that have already terminated')
    .action((options, cmd: Command) => statusCommand(global(cmd), options));

  fleet
    .command('sim')
    .description('run the real reconciler against the built-in simulated AWS and report what happened')
    .addOption(
      new Option('--hours <n>', 'simulated period in hours (default: 24, or the recorded period with --prices)').argParser(
        intIn('--hours', OPTION_BOUNDS.hours),
      ),
    )
    .option('--seed <n>', 'random seed', intIn('--seed', OPTION_BOUNDS.seed), 42)
    .addOption(
      new Option(
        '--start <iso>',
        'simulated start time, ISO 8601 (default: 2026-11-16T00:00:00Z, or the start of the recording with --prices)',
      ),
    )
    .option(
      '--prices <path>',
      "replay recorded spot price history: a file or directory (describe-spot-price-history JSON or CSV, plain or gzipped), or aws:REGION[,REGION...] for the account's own",
    )
    .option('--days <n>', 'with --prices aws:...: days of history to read (at most 90)', intIn('--days', OPTION_BOUNDS.days))
    .addOption(
      new Option(
        '--prices-cache <file>',
        'with --prices aws:...: cache file, reused for a day (default: .fleet-prices-<regions>-<days>d.json)',
      ),
    )
    .addOption(
      new Option(
        '--market-rule <rule>',
        'when spot instances are interrupted: price (above their max price, EC2 before December 2017) or capacity (today); default: price for recordings before 2017-12-01, else capacity',
      ).choices(['price', 'capacity']),
    )
    .addOption(
      new Option('--regime <regime>', 'generated spot market: modern (smooth prices) or volatile (spiky, 2016-style)')
        .choices(['modern', 'volatile'])
        .default('modern'),
    )
    .option(
      '--throttle <share>',
      'share of API calls answered RequestLimitExceeded (0-1)',
      checked(numberIn('--throttle', { min: 0, max: 1 })),
      '0',
    )
    .option(
      '--server-errors <share>',
      'share of API calls answered InternalError (0-1)',
      checked(numberIn('--server-errors', { min: 0, max: 1 })),
      '0',
    )
    .option(
      '--visibility-delay <seconds>',
      'seconds before a new instance is listed',
      checked(numberIn('--visibility-delay', OPTION_BOUNDS.visibilityDelay)),
      '0',
    )
    .option(
      '--crunches <perDay>',
      'spot capacity crunches per offer per day',
      checked(numberIn('--crunches', OPTION_BOUNDS.crunches)),
      '0.25',
    )
    .option('--capacity <n>', 'typical spot capacity per offer (instances)', checked(intIn('--capacity', OPTION_BOUNDS.capacity)), '60')
    .option(
      '--interruptions <perHour>',
      'background spot reclaim rate per instance-hour',
      checked(numberIn('--interruptions', OPTION_BOUNDS.interruptions)),
      '0.005',
    )
    .addOption(
      new Option('--log-level <level>', 'reconciler log lines on stderr')
        .choices(['fatal', 'error', 'warn', 'info', 'debug'])
        .default('error'),
    )
    .option('--exhaust <spec...>', 'take capacity away: lifecycle:type:zone[@fromHour-toHour], e.g. spot:*:us-east-1a@6-12')
    .option('--no-pricing', 'simulate an unreachable Price List API')
    .option(
      '--events',
      'an EventBridge rule feeds EC2 events (interruption warnings, rebalance recommendations, state changes) to a queue fleet reads between cycles',
    )
    .option(
      '--bad-image <hour>',
      'the first nightly image baked after this hour is broken: its workers fail to boot',
      intIn('--bad-image', OPTION_BOUNDS.badImage),
    )
    .addOption(
      new Option(
        '--desired-form <form>',
        'how the simulated CI publishes desired counts: counts (pending + running jobs per pool) or queue (per pool {pending, running, oldestPendingSeconds, busy})',
      )
        .choices(['counts', 'queue'])
        .default('counts'),
    )
    .addOption(
      new Option(
        '--workload <shape>',
        "the simulated CI's day: day (the working day's curve, with bursts) or office (jobs 08:00-18:00 UTC only, opening with a burst; none at night)",
      )
        .choices(['day', 'office'])
        .default('day'),
    )
    .option(
      '--no-worker-agent',
      'simulated workers ignore fleet:retire (no fleet worker agent): a worker asked to leave keeps taking jobs until fleet ends it',
    )
    .option('--report <file>', 'write an HTML report with charts')
    .option('--json', 'print the summary as JSON')
    .action((options, cmd: Command) => simCommand(global(cmd), options));

  fleet
    .command('drain')
    .description('mark an AMI drained: never launched again; its instances are retired (within the drain budget, or at once with --now)')
    .requiredOption('--ami <ami>', 'the AMI to drain')
    .option('--reason <text>', 'why, recorded with the mark')
    .option('--now', 'terminate every instance running it at once')
    .option('--dry-run', 'print what would happen; change nothing')
    .option('--force', 'drain an AMI fleet has never seen (in no manifest, run by no managed instance)')
    .option('--json', 'machine-readable output')
    .action((options, cmd: Command) => drainCommand(global(cmd), options));

  fleet
    .command('undrain')
    .description('clear the drained mark of an AMI')
    .requiredOption('--ami <ami>', 'the AMI to undrain')
    .option('--json', 'machine-readable output')
    .action((options, cmd: Command) => undrainCommand(global(cmd), options));

  const amis = fleet.command('amis').description('the AMI manifest as fleet sees it');
  amis
    .command('list')
    .description('per pool and region: current, previous and drained AMIs, with the instances running them')
    .option('--json', 'machine-readable output')
    .action((options, cmd: Command) => amisListCommand(global(cmd), options));
  amis
    .command('prune')
    .description('deregister old AMIs and their snapshots, keeping the newest N per pool and region; never a current one or one in use')
    .requiredOption('--keep <n>', 'images to keep per pool and region', checked(intIn('--keep', OPTION_BOUNDS.keep)))
    .option('--dry-run', 'print what would be deregistered; change nothing')
    .option('--json', 'machine-readable output')
    .action((options, cmd: Command) => amisPruneCommand(global(cmd), options));

  const config = fleet.command('config').description('configuration');
  config
    .command('check')
    .description('validate config and policies; print the effective configuration (secrets redacted)')
    .option('--json', 'only the effective configuration, as JSON')
    .action((options, cmd: Command) => configCheckCommand(global(cmd), options));

  fleet
    .command('check-ami')
    .description(
      "on a worker at boot: would fleet launch this instance's AMI for its pool and region now? exit 0 launchable, 3 outdated, 4 drained, 1 cannot tell",
    )
    .option('--json', 'machine-readable output')
    .action(async (options, cmd: Command) => exitWith(await checkAmiCommand(global(cmd), options)));

  fleet
    .command('worker')
    .description(
      'on a worker after boot, for its life: on fleet:retire or a spot interruption notice, run the hook and exit 3 (power off); exit 4 at start on a drained image, 1 when metadata is unreadable',
    )
    .option(
      '--on-retire <command>',
      'shell command that stops the CI agent gracefully (returns once the running job is done or handed back)',
    )
    .option('--poll <seconds>', 'seconds between metadata reads (1-300)', pollSeconds, 5)
    .option('--json', 'machine-readable output')
    .action(async (options, cmd: Command) => exitWith(await workerCommand(global(cmd), options)));

  return fleet;
}

export async function main(argv: readonly string[]): Promise<number> {
  let status: number = EXIT.ok;
  const cli = program((code) => (status = code));
  const debug = argv.includes('--debug');
  try {
    await cli.parseAsync(argv, { from: 'user' });
    return status;
  } catch (e) {
    if (e instanceof CommanderError) {
      // Help and version are not errors; usage mistakes are (commander has printed them).
      return e.code === 'commander.helpDisplayed' || e.code === 'commander.help' || e.code === 'commander.version' ? EXIT.ok : EXIT.usage;
    }
    if (e instanceof InputError || e instanceof RuntimeFailure) {
      process.stderr.write(`fleet: ${e.message}\n`);
      if (debug) process.stderr.write(`${e.stack}\n`);
      return e instanceof InputError ? EXIT.usage : EXIT.failure;
    }
    const error = e instanceof CloudError ? e : classify(e);
    process.stderr.write(`fleet: ${describe(error)}\n`);
    if (debug) process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
    return EXIT.failure;
  }
}

function describe(error: CloudError): string {
  switch (error.errorClass) {
    case 'permission':
      return `permission denied by the cloud (${error.code}): ${error.message}`;
    case 'throttled':
      return `the cloud kept throttling requests (${error.code}); try again later`;
    case 'transient':
      return `the cloud could not be reached or failed (${error.code}): ${error.message}`;
    default:
      return error.code === 'Unknown' || error.code === 'Error' ? error.message : `${error.code}: ${error.message}`;
  }
}
