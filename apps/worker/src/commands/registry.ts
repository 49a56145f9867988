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
    usage: 'import FILE [--format csv|json|ndjson] [--skip-invalid] [--instance NAME] [--reprice] [--replace]',
    details:
      'A bad row refuses the whole file (nothing is written) unless --skip-invalid; importing the same file again changes nothing, and keeps the costs it stored unless --reprice.',
    options: {
      format: { type: 'string', value: 'csv|json|ndjson', description: 'the file format (default: from the extension: .csv, .json, .ndjson or .jsonl)' },
      'skip-invalid': { type: 'boolean', description: 'import the good rows and list the bad ones' },
      instance: { type: 'string', value: 'NAME', description: 'source_instance for the rows (default: the file name)' },
      reprice: { type: 'boolean', description: 'price the rows again with the current prices, replacing the costs stored by an earlier import' },
      replace: { type: 'boolean', description: 'the file replaces the instance: delete the cells an earlier import wrote that it no longer has' },
    },
    maxPositionals: 1,
    needsSourceCredentials: false,
    run: async (runtime, args) =>
      (await import('./import-command')).importCommand(runtime, args.positionals[0], {
        skipInvalid: booleanFlag(args, 'skip-invalid'),
        instance: stringFlag(args, 'instance'),
        format: stringFlag(args, 'format'),
        reprice: booleanFlag(args, 'reprice'),
        replace: booleanFlag(args, 'replace'),
      }),
  },
  {
    name: 'report',
    summary: 'tokens, requests, priced spend and unpriced tokens; or billed vs computed with --reconcile',
    usage: 'report [--since ISO] [--until ISO] [--period day|month] [--by source|provider|model|tag:KEY] [--reconcile] [--json]',
    options: {
      since,
      until,
      period: { type: 'string', value: 'day|month', description: 'one line per UTC day (default) or month' },
      by: { type: 'string', value: 'source|provider|model|tag:KEY', description: 'group by (default: source); tag:KEY groups by a label such as a tracked tag' },
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
    name: 'budget',
    summary: "each budget's spend this period over the whole ledger: total, limit, percent, forecast; exit 2 when one is over",
    usage: 'budget [--json]',
    details:
      'Budgets come from `budgets:` in the config; days and months run in `reportingTimeZone` (default UTC). The forecast is the flat fees paid ' +
      'this period plus the rest of the spend extrapolated linearly to the period\'s end, once 10% of the period has passed (2h24m of a day, ' +
      'about 3 days of a month); before that it shows "too early" (--json: forecastBasis "too_early", forecastUsd = the spend so far, ' +
      'forecastFrom = when extrapolation starts) and never makes a budget "forecast over".',
    options: { json },
    needsSourceCredentials: false,
    run: async (runtime, args) => (await import('./budget-command')).budgetCommand(runtime, { json: booleanFlag(args, 'json'), now: args.now }),
  },
  {
    name: 'prune-calls',
    summary: "retention for @utt/tracker's per-call rows: delete those older than an age; hourly cells and budgets keep their totals",
    usage: 'prune-calls --older-than 90d [--application NAME] [--batch-size N] [--json]',
    details: [
      'Deletes tracked_call rows of whole UTC hours before now minus --older-than, in batches (one short transaction',
      'each, default 5000 calls). Their sums move to tracked_cell_carry in the same transaction, so the token_usage',
      'cells, utt report and every budget keep their totals. Calls of the pruned hours written later (a batch retried',
      'after the prune) are refused and counted as dropped by the tracker, never counted twice. Run it from cron.',
    ].join('\n'),
    options: {
      'older-than': { type: 'string', value: 'DURATION', description: 'the age of the calls to delete, e.g. 90d (at least 1h)' },
      application: { type: 'string', value: 'NAME', description: "only this application's calls (its source_system; default: every application)" },
      'batch-size': { type: 'string', value: 'N', description: 'calls per transaction (default 5000)' },
      json,
    },
    needsSourceCredentials: false,
    run: async (runtime, args) =>
      (await import('./prune-calls-command')).pruneCallsCommand(runtime, {
        olderThan: stringFlag(args, 'older-than'),
        application: stringFlag(args, 'application'),
        batchSize: stringFlag(args, 'batch-size'),
        json: booleanFlag(args, 'json'),
        now: args.now,
      }),
  },
  {
    name: 'doctor',
    summary: 'what to check before trusting the numbers, each problem with its fix',
    usage: 'doctor',
    details:
      'Schema version and pending migrations, database server and timeouts, the embedded-database lock, price file age and unpriced models, ' +
      'failing and stale sources, watermarks behind maxBackfill, table sizes, growth and retention. Reads only; calls no provider. ' +
      'Exit 0: nothing to fix; 2: problems listed with their fixes; 1: the database cannot be reached.',
    options: {},
    needsSourceCredentials: false,
    run: async (runtime, args) => (await import('./doctor-command')).doctorCommand(runtime, { now: args.now }),
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
  {
    name: 'quota',
    summary: 'quota and rate limits: status and pace, weekly history, resets, rotation, underspend',
    usage:
      'quota [weekly|resets|rotate|underspend] [--provider P] [--account A] [--json] [--offline] [--within 48h] [--since ISO] [--format prometheus [--output FILE]]',
    details: [
      'status      per account and window: used, status, severity, reset countdown, pace (default view)',
      'weekly      per ISO week and account: peak and average of the weekly window; every exhaustion',
      'resets      the reset schedule, soonest first (--within, default 48h)',
      'rotate      accounts ranked by headroom; rejected, invalid and auth-required ones last, with why',
      'underspend  windows about to reset with quota left that the weekly window could absorb',
      '',
      'Reads fresh readings from every quota-capable source first (no model call; a gated source',
      'keeps its last reading), unless --offline. Exit codes of the status view: 0 OK, 1 WARNING,',
      '2 CRITICAL, 3 UNKNOWN. --format prometheus writes the node_exporter textfile format',
      '(atomically with --output FILE).',
    ].join('\n'),
    options: {
      provider: { type: 'string', value: 'P', description: 'only this provider (anthropic, openai, …)' },
      account: { type: 'string', value: 'A', description: 'only this account' },
      within: { type: 'string', value: 'DURATION', description: 'resets: how far ahead (default 48h)' },
      since: { type: 'string', value: 'ISO', description: 'weekly: from this date (default 8 weeks ago)' },
      format: { type: 'string', value: 'table|json|prometheus', description: 'output format (default table)' },
      output: { type: 'string', value: 'FILE', description: 'with --format prometheus: write this file atomically instead of stdout' },
      offline: { type: 'boolean', description: 'read only the database; ask no source' },
      json,
    },
    subcommands: ['weekly', 'resets', 'rotate', 'underspend'],
    maxPositionals: 1,
    needsSourceCredentials: true,
    run: async (runtime, args) =>
      (await import('./quota-command')).quotaCommand(runtime, args.positionals[0], {
        json: booleanFlag(args, 'json'),
        provider: stringFlag(args, 'provider'),
        account: stringFlag(args, 'account'),
        within: stringFlag(args, 'within'),
        since: stringFlag(args, 'since'),
        format: stringFlag(args, 'format'),
        output: stringFlag(args, 'output'),
        offline: booleanFlag(args, 'offline'),
        now: args.now,
      }),
  },
  {
    name: 'statusline',
    summary: "Claude Code's status line: records the rate_limits it pipes in, prints one short line",
    usage: 'statusline',
    details: [
      'Set in ~/.claude/settings.json: {"statusLine": {"type": "command", "command": "utt statusline --config /path/utt.config.yaml"}}.',
      'Reads the JSON on stdin, prints one line at once and exits 0, even when the database is',
      'unavailable: a status line must never break the session. Its five_hour and seven_day windows',
      'become quota readings (quota.statusline.source and .account in the config), spooled beside the',
      'database and stored by a background process (PostgreSQL, at most once a minute) or by the next',
      'utt run / utt quota (PGlite, one process per folder); --wait stores them before exiting.',
    ].join('\n'),
    options: {
      wait: { type: 'boolean', description: 'store the readings before exiting (default: spool them for a background process or the next utt quota)' },
      ingest: { type: 'string', value: 'FILE', description: 'internal: store a spool file written by a previous statusline run' },
    },
    needsSourceCredentials: false,
    run: async (runtime, args) =>
      (await import('./statusline-command')).statuslineCommand(runtime, { now: args.now, wait: booleanFlag(args, 'wait'), ingest: stringFlag(args, 'ingest') }),
  },
  {
    name: 'alerts',
    summary: 'evaluate the alert rules: notify once per crossing and once on recovery',
    usage: 'alerts [--dry-run] [--json]',
    details: [
      'Rules (alerts.rules): quota-severity, underspend, source-stale. Their state is kept in the database,',
      'so separate cron runs notify once per crossing. Channels (alerts.channels): slack (incoming-webhook',
      'JSON), ntfy, stdout. Exit 0 when every notification was delivered, 2 when one failed (it is retried',
      'on the next run).',
    ].join('\n'),
    options: { 'dry-run': { type: 'boolean', description: 'show what each rule concludes; store and send nothing' }, json },
    needsSourceCredentials: false,
    run: async (runtime, args) =>
      (await import('./alerts-command')).alertsCommand(runtime, { dryRun: booleanFlag(args, 'dry-run'), json: booleanFlag(args, 'json'), now: args.now }),
  },
  {
    name: 'serve',
    summary: 'the web dashboard and JSON API (read-only), on 127.0.0.1:8787 by default',
    usage: 'serve [--host ADDRESS] [--port N] [--allow-host NAMES]',
    details: [
      'Binds loopback unless told otherwise. On any other address it needs a token in UTT_SERVE_TOKEN (16+ characters):',
      'browsers open the printed URL with ?token=… once and get a session cookie; curl sends "Authorization: Bearer …".',
      'Days and months use reportingTimeZone (default UTC). Stops cleanly on SIGINT or SIGTERM.',
    ].join('\n'),
    options: {
      host: { type: 'string', value: 'ADDRESS', description: 'address to bind (default: dashboard.host, 127.0.0.1)' },
      port: { type: 'string', value: 'N', description: 'port (default: dashboard.port, 8787; 0 picks a free one)' },
      'allow-host': { type: 'string', value: 'NAMES', description: 'comma-separated Host names to answer besides localhost (a reverse proxy\'s name)' },
    },
    needsSourceCredentials: false,
    run: async (runtime, args) =>
      (await import('./serve-command')).serveCommand(runtime, {
        host: stringFlag(args, 'host'),
        port: stringFlag(args, 'port'),
        allowHost: stringFlag(args, 'allow-host'),
      }),
  },
  {
    name: 'rollup-zones',
    summary: "the time zones whose local days the dashboard roll-up keeps; --drop one no dashboard serves",
    usage: 'rollup-zones [--drop ZONE] [--json]',
    details: '`utt serve` keeps the reporting zone\'s days so its pages read the roll-up; every write pays for each kept zone. UTC is always kept.',
    options: { drop: { type: 'string', value: 'ZONE', description: 'stop keeping this IANA zone (its roll-up rows are deleted; `utt serve` adds it back)' }, json },
    needsSourceCredentials: false,
    run: async (runtime, args) => (await import('./rollup-zones-command')).rollupZonesCommand(runtime, { drop: stringFlag(args, 'drop'), json: booleanFlag(args, 'json') }),
  },
  {
    name: 'new-adapter',
    summary: 'start a third-party adapter package (utt-adapter-NAME) from the tested template',
    usage: 'new-adapter NAME [--dir DIR]',
    details: 'Creates utt-adapter-NAME: an HTTP adapter, its conformance test against a loopback fake, a fixture, build and README. Needs no config.',
    options: { dir: { type: 'string', value: 'DIR', description: 'where to create it (default: ./utt-adapter-NAME)' } },
    maxPositionals: 1,
    needsSourceCredentials: false,
    run: async (runtime, args) =>
      (await import('./new-adapter-command')).newAdapterCommand(args.positionals[0], { directory: stringFlag(args, 'dir'), cwd: runtime.cwd }),
    runWithoutConfig: async (args, where) =>
      (await import('./new-adapter-command')).newAdapterCommand(args.positionals[0], { directory: stringFlag(args, 'dir'), cwd: where.cwd }),
  },
];

export function findCommand(name: string): CommandSpec | undefined {
  return COMMANDS.find((command) => command.name === name);
}
