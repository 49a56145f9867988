#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { redactSecrets, UttError } from '@utt/core';
import { agentsCommand } from './commands/agents-command';
import { checkCommand } from './commands/check-command';
import { importCommand } from './commands/import-command';
import { migrateCommand } from './commands/migrate-command';
import { parseTimeFlag, UsageError } from './commands/parse-time-flag';
import { pricesCommand } from './commands/prices-command';
import { repriceCommand } from './commands/reprice-command';
import { reportCommand } from './commands/report-command';
import { backfillCommand, daemonCommand, runCommand } from './commands/run-command';
import { verifyCommand } from './commands/verify-command';
import { watchdogCommand } from './commands/watchdog-command';
import { EXIT_FATAL } from './exit-codes';
import type { LogLevel } from './output/console-logger';
import { loadRuntime } from './runtime';
import { secretValuesOf } from './config/substitute-env';

const HELP = `utt — unified token telemetry

usage: utt <command> [options]

commands:
  run                      one cycle over every enabled source (watermark-driven)
      [--source NAME] [--report]
  daemon [--interval 15m]  a cycle every interval; stops cleanly on SIGTERM
  backfill --source NAME --since ISO [--until ISO]
                           collect one window exactly, e.g. after downtime
  import FILE [--skip-invalid] [--instance NAME]
                           import a CSV, JSON or NDJSON usage file
  report [--since ISO] [--until ISO] [--period day|month] [--by source|provider|model] [--json]
  report --reconcile [--since ISO] [--until ISO] [--json]
                           billed (provider_cost) vs computed per day and provider, and the gap
  agents [daily|monthly|session] [--since ISO] [--until ISO] [--instance NAME] [--json]
                           coding-agent usage (Claude Code, Codex, Gemini CLI), like ccusage
  verify                   smoke checks: data flows and the invariants hold
  watchdog [--stale-after 1h]
                           exit 0 when every enabled source is fresh or paused, 2 otherwise
  check [--source NAME]    each source's credentials check
  migrate                  apply pending database migrations
  prices explain --provider P --model M [--at DATE] [--json]
                           which price a model gets: source, key, match strategy, rates, missing rates
  prices check             models in the database without a price; a stale prices file (exit 2)
  prices update [--url URL]
                           fetch fresh registry data into pricing.file (never done while collecting)
  reprice --since DATE [--until DATE] [--source NAME] [--model M] [--dry-run]
                           recompute stored computed costs with the current prices; shows the change first

options:
  --config FILE            default: $UTT_CONFIG, else ./utt.config.yaml
  --log-level LEVEL        debug, info, warn (default) or error
  --now ISO                act as if it were this time (run, backfill, watchdog): for replays and tests
  -h, --help

exit codes: 0 all sources succeeded; 2 some failed (the others were written); 1 fatal (config, database)
`;

export async function main(argv: readonly string[], env: NodeJS.ProcessEnv, cwd: string): Promise<number> {
  // Known before the config is read, so that no error (a config error included) can print them.
  let secrets: ReadonlySet<string> = secretValuesOf(env);
  try {
    const { values, positionals } = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        config: { type: 'string' },
        'log-level': { type: 'string', default: 'warn' },
        help: { type: 'boolean', short: 'h' },
        source: { type: 'string' },
        since: { type: 'string' },
        until: { type: 'string' },
        by: { type: 'string' },
        period: { type: 'string' },
        json: { type: 'boolean' },
        report: { type: 'boolean' },
        reconcile: { type: 'boolean' },
        interval: { type: 'string' },
        'skip-invalid': { type: 'boolean' },
        instance: { type: 'string' },
        'stale-after': { type: 'string' },
        now: { type: 'string' },
        provider: { type: 'string' },
        model: { type: 'string' },
        at: { type: 'string' },
        url: { type: 'string' },
        'dry-run': { type: 'boolean' },
      },
    });
    const [command, ...rest] = positionals;
    if (values.help || !command) {
      process.stdout.write(HELP);
      return values.help ? 0 : EXIT_FATAL;
    }
    const logLevel = values['log-level'] as LogLevel;
    if (!['debug', 'info', 'warn', 'error'].includes(logLevel)) throw new UsageError('--log-level must be debug, info, warn or error');
    const now = parseTimeFlag('now', values.now);
    const runtime = await loadRuntime({ configFlag: values.config, logLevel, env, cwd, command });
    secrets = runtime.loaded.secrets;
    switch (command) {
      case 'run':
        return await runCommand(runtime, { source: values.source, report: values.report, now });
      case 'daemon':
        return await daemonCommand(runtime, { interval: values.interval });
      case 'backfill':
        return await backfillCommand(runtime, { ...values, now });
      case 'import':
        return await importCommand(runtime, rest[0], { skipInvalid: values['skip-invalid'], instance: values.instance });
      case 'report':
        return await reportCommand(runtime, values);
      case 'agents':
        return await agentsCommand(runtime, rest[0], values);
      case 'verify':
        return await verifyCommand(runtime);
      case 'watchdog':
        return await watchdogCommand(runtime, { staleAfter: values['stale-after'], now });
      case 'check':
        return await checkCommand(runtime, { source: values.source });
      case 'prices':
        return await pricesCommand(runtime, rest[0], { ...values, now });
      case 'reprice':
        return await repriceCommand(runtime, { ...values, dryRun: values['dry-run'] });
      case 'migrate':
        return await migrateCommand(runtime);
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  } catch (error) {
    const message = error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')
      ? `${(error as Error).message}\nrun "utt --help" for usage`
      : UttError.isInstance(error)
        ? error.message
        : `fatal: ${error instanceof Error ? error.message : String(error)}`;
    process.stderr.write(`utt: ${redactSecrets(message, secrets)}\n`);
    return EXIT_FATAL;
  }
}

main(process.argv.slice(2), process.env, process.cwd()).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`utt: fatal: ${String(error)}\n`);
    process.exitCode = EXIT_FATAL;
  },
);
