import { booleanFlag, type CommandSpec, type OptionSpec, stringFlag } from './command-spec';

// Options several commands share, written once so their help reads the same.
const since: OptionSpec = { type: 'string', value: 'ISO', description: 'from this UTC date or date-time (inclusive)' };
const until: OptionSpec = { type: 'string', value: 'ISO', description: 'up to this UTC date or date-time (exclusive)' };
const json: OptionSpec = { type: 'boolean', description: 'print JSON instead of a table' };
const source: OptionSpec = { type: 'string', value: 'NAME', description: 'only this configured source' };

/**
 * Every `utt` command. To add one: write its implementation in its own file
 * and add an entry here whose `run` imports that file, so nothing is loaded
 * until the command is chosen.
 */
export const COMMANDS: readonly CommandSpec[] = [
  {
    name: 'run',
    summary: 'one cycle over every enabled source (watermark-driven)',
    usage: 'run [--source NAME] [--report]',
    details: 'Collects each source from its watermark minus the settle window to the end of the open bucket.',
    options: { source, report: { type: 'boolean', description: 'print a monthly spend report after the cycle' } },
    needsSourceCredentials: true,
    run: async (runtime, args) =>
      (await import('./run-command')).runCommand(runtime, { source: stringFlag(args, 'source'), report: booleanFlag(args, 'report'), now: args.now }),
  },
  {
    name: 'daemon',
    summary: 'a cycle every interval; stops cleanly on SIGTERM',
    usage: 'daemon [--interval 15m]',
    options: { interval: { type: 'string', value: 'DURATION', description: 'time between cycles (default: worker.interval)' } },
    needsSourceCredentials: true,
    run: async (runtime, args) => (await import('./run-command')).daemonCommand(runtime, { interval: stringFlag(args, 'interval') }),
  },
  {
    name: 'backfill',
    summary: 'collect one window exactly, e.g. after downtime',
    usage: 'backfill --source NAME --since ISO [--until ISO]',
    options: { source, since, until },
    needsSourceCredentials: true,
    run: async (runtime, args) =>
      (await import('./run-command')).backfillCommand(runtime, {
        source: stringFlag(args, 'source'),
        since: stringFlag(args, 'since'),
        until: stringFlag(args, 'until'),
        now: args.now,
      }),
  },
  {
    name: 'import',
    summary: 'import a CSV, JSON or NDJSON usage file',
    usage: 'import FILE [--skip-invalid] [--instance NAME]',
    details: 'A bad row refuses the whole file (nothing is written) unless --skip-invalid; importing the same file again changes nothing.',
    options: {
      'skip-invalid': { type: 'boolean', description: 'import the good rows and list the bad ones' },
      instance: { type: 'string', value: 'NAME', description: 'source_instance for the rows (default: the file name)' },
    },
    maxPositionals: 1,
    needsSourceCredentials: false,
    run: async (runtime, args) =>
      (await import('./import-command')).importCommand(runtime, args.positionals[0], {
        skipInvalid: booleanFlag(args, 'skip-invalid'),
        instance: stringFlag(args, 'instance'),
      }),
  },
  {
    name: 'report',
    summary: 'tokens, requests, priced spend and unpriced tokens; or billed vs computed with --reconcile',
    usage: 'report [--since ISO] [--until ISO] [--period day|month] [--by source|provider|model] [--reconcile] [--json]',
    options: {
      since,
      until,
      period: { type: 'string', value: 'day|month', description: 'one line per UTC day (default) or month' },
      by: { type: 'string', value: 'source|provider|model', description: 'group by (default: source)' },
      reconcile: { type: 'boolean', description: 'per UTC day and provider: billed (provider_cost) vs computed, and the gap' },
      json,
    },
    needsSourceCredentials: false,
    run: async (runtime, args) =>
      (await import('./report-command')).reportCommand(runtime, {
        since: stringFlag(args, 'since'),
        until: stringFlag(args, 'until'),
        by: stringFlag(args, 'by'),
        period: stringFlag(args, 'period'),
        json: booleanFlag(args, 'json'),
        reconcile: booleanFlag(args, 'reconcile'),
      }),
  },
  {
    name: 'agents',
    summary: 'coding-agent usage (Claude Code, Codex, Gemini CLI), like ccusage',
    usage: 'agents [daily|monthly|session] [--since ISO] [--until ISO] [--instance NAME] [--json]',
    options: { since, until, instance: { type: 'string', value: 'NAME', description: 'only this machine (source_instance)' }, json },
    subcommands: ['daily', 'monthly', 'session'],
    maxPositionals: 1,
    needsSourceCredentials: false,
    run: async (runtime, args) =>
      (await import('./agents-command')).agentsCommand(runtime, args.positionals[0], {
        since: stringFlag(args, 'since'),
        until: stringFlag(args, 'until'),
        instance: stringFlag(args, 'instance'),
        json: booleanFlag(args, 'json'),
      }),
  },
  {
    name: 'verify',
    summary: 'smoke checks: data flows and the invariants hold',
    usage: 'verify',
    options: {},
    needsSourceCredentials: false,
    run: async (runtime) => (await import('./verify-command')).verifyCommand(runtime),
  },
  {
    name: 'watchdog',
    summary: 'exit 0 when every enabled source is fresh or paused, 2 otherwise',
    usage: 'watchdog [--stale-after 1h]',
    details: 'Reads only the database, so cron can run it when the worker is dead.',
    options: { 'stale-after': { type: 'string', value: 'DURATION', description: 'one threshold for every source (default: each source\'s staleAfter)' } },
    needsSourceCredentials: false,
    run: async (runtime, args) =>
      (await import('./watchdog-command')).watchdogCommand(runtime, { staleAfter: stringFlag(args, 'stale-after'), now: args.now }),
  },
  {
    name: 'check',
    summary: "each source's credentials check, one cheap call each",
    usage: 'check [--source NAME]',
    options: { source },
    needsSourceCredentials: true,
    run: async (runtime, args) => (await import('./check-command')).checkCommand(runtime, { source: stringFlag(args, 'source') }),
  },
  {
    name: 'migrate',
    summary: 'apply pending database migrations',
    usage: 'migrate',
    options: {},
    needsSourceCredentials: false,
    run: async (runtime) => (await import('./migrate-command')).migrateCommand(runtime),
  },
  {
    name: 'prices',
    summary: 'explain a model\'s price, check the database for unpriced models, or update the prices file',
    usage: 'prices explain --provider P --model M [--at DATE] [--json] | prices check | prices update [--url URL]',
    details: [
      'explain  which price a model gets: source, key, match strategy, rates, missing rates (exit 2 when none)',
      'check    models in the database without a price; a stale prices file (exit 2)',
      'update   fetch fresh registry data into pricing.file (never done while collecting)',
    ].join('\n'),
    options: {
      provider: { type: 'string', value: 'P', description: 'the provider (explain)' },
      model: { type: 'string', value: 'M', description: 'the model (explain)' },
      at: { type: 'string', value: 'DATE', description: 'the date to price at (explain; default now)' },
      url: { type: 'string', value: 'URL', description: 'where to fetch registry data from (update)' },
      json,
    },
    subcommands: ['explain', 'check', 'update'],
    maxPositionals: 1,
    needsSourceCredentials: false,
    run: async (runtime, args) =>
      (await import('./prices-command')).pricesCommand(runtime, args.positionals[0], {
        provider: stringFlag(args, 'provider'),
        model: stringFlag(args, 'model'),
        at: stringFlag(args, 'at'),
        url: stringFlag(args, 'url'),
        json: booleanFlag(args, 'json'),
        now: args.now,
      }),
  },
  {
    name: 'reprice',
    summary: 'recompute stored computed costs with the current prices; shows the change first',
    usage: 'reprice --since DATE [--until DATE] [--source NAME] [--model M] [--dry-run]',
    options: {
      since,
      until,
      source: { type: 'string', value: 'NAME', description: 'only rows whose source_system or source_instance is NAME' },
      model: { type: 'string', value: 'M', description: 'only this model' },
      'dry-run': { type: 'boolean', description: 'print the changes, write nothing' },
    },
    needsSourceCredentials: false,
    run: async (runtime, args) =>
      (await import('./reprice-command')).repriceCommand(runtime, {
        since: stringFlag(args, 'since'),
        until: stringFlag(args, 'until'),
        source: stringFlag(args, 'source'),
        model: stringFlag(args, 'model'),
        dryRun: booleanFlag(args, 'dry-run'),
      }),
  },
];

export function findCommand(name: string): CommandSpec | undefined {
  return COMMANDS.find((command) => command.name === name);
}
