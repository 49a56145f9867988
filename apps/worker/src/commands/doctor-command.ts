import { stat } from 'node:fs/promises';
import path from 'node:path';
import { UttError } from '@utt/core';
import { HEARTBEAT_SOURCE, lacksOnlyUsage, MIGRATIONS, openStore, readEmbeddedLockHolder, type UsageStore } from '@utt/postgres';
import { EXIT_FATAL, EXIT_OK, EXIT_PARTIAL } from '../exit-codes';
import { describeUnpriced, unpricedModels } from '../pricing/unpriced-models';
import type { Runtime } from '../runtime';

type Level = 'ok' | 'info' | 'warn' | 'FAIL';

/** One thing `utt doctor` looked at: what it found and, when something is wrong, how to fix it. */
type Finding = { readonly level: Level; readonly check: string; readonly message: string; readonly fix?: string };

const DOCTOR_LOCK_WAIT_MS = 5_000;
const LOCAL_PROVIDERS = new Set(['ollama', 'lmstudio', 'llamacpp', 'llama.cpp', 'vllm', 'local']);
const TABLES = ['token_usage', 'provider_cost', 'watchdog_status', 'rollup_watermark', 'source_state'] as const;

/**
 * `utt doctor`: what an operator checks before trusting the numbers. Opens the
 * database without migrating (so pending migrations show), reads only, and
 * calls no provider. Exit 0 when nothing needs fixing, 2 when something does
 * (each finding with its fix), 1 when the database cannot be reached at all.
 */
export async function doctorCommand(runtime: Runtime, flags: { now?: Date }): Promise<number> {
  const now = flags.now ?? new Date();
  const { config } = runtime.loaded;
  const findings: Finding[] = [];
  const embeddedPath = config.database.url ? undefined : path.resolve(runtime.cwd, config.database.path);

  if (embeddedPath) {
    const holder = await readEmbeddedLockHolder(embeddedPath);
    findings.push(
      holder
        ? { level: 'info', check: 'embedded lock', message: `${embeddedPath} is in use by ${holder.command} (pid ${holder.pid}, since ${holder.since}); doctor waits up to 5 s for it` }
        : { level: 'ok', check: 'embedded lock', message: `${embeddedPath} is free (one process at a time: the daemon releases it between cycles)` },
    );
  }

  let store: UsageStore;
  try {
    store = await openStore({
      url: config.database.url || undefined,
      path: embeddedPath,
      schema: config.database.schema,
      migrate: false,
      timeouts: { connectMs: config.database.connectTimeout ?? 10_000, statementMs: config.database.statementTimeout },
      embeddedLock: { command: 'utt doctor', waitMs: DOCTOR_LOCK_WAIT_MS },
    });
  } catch (error) {
    findings.push({
      level: 'FAIL',
      check: 'database',
      message: UttError.isInstance(error) ? error.message : String(error),
      fix: config.database.url
        ? 'check that the server runs and database.url (or DATABASE_URL) is right, then run utt doctor again'
        : 'wait for the process holding the embedded database to finish, or check database.path',
    });
    print(findings);
    return EXIT_FATAL;
  }

  try {
    await checkDatabase(store, findings, config.database.url ? 'postgres' : 'pglite');
    const applied = await appliedMigrations(store);
    if (applied === undefined || applied.size < MIGRATIONS.length) {
      const pending = MIGRATIONS.filter((migration) => !applied?.has(migration.name)).map((migration) => migration.name);
      findings.push({
        level: 'FAIL',
        check: 'schema',
        message: `schema ${store.schema}: ${pending.length} of ${MIGRATIONS.length} migrations pending (${pending.join(', ')})`,
        fix: 'utt migrate (every collecting command also migrates first)',
      });
      print(findings);
      return EXIT_PARTIAL;
    }
    findings.push({ level: 'ok', check: 'schema', message: `schema ${store.schema}: all ${MIGRATIONS.length} migrations applied (latest ${MIGRATIONS.at(-1)?.name})` });

    await checkPrices(runtime, store, findings, now);
    await checkSources(runtime, store, findings, now);
    await checkTables(store, findings, now);
  } finally {
    await store.close();
  }
  print(findings);
  return findings.some((finding) => finding.level === 'FAIL' || finding.level === 'warn') ? EXIT_PARTIAL : EXIT_OK;
}

async function checkDatabase(store: UsageStore, findings: Finding[], kind: 'postgres' | 'pglite'): Promise<void> {
  const [version] = await store.client.query<{ server_version: string }>('SHOW server_version');
  if (kind === 'pglite') {
    findings.push({ level: 'ok', check: 'database', message: `embedded PGlite (PostgreSQL ${version?.server_version}); no server timeouts apply` });
    return;
  }
  const setting = async (name: string) => (await store.client.query<Record<string, string>>(`SHOW ${name}`))[0]?.[name] ?? '?';
  const timeouts = {
    statement_timeout: await setting('statement_timeout'),
    lock_timeout: await setting('lock_timeout'),
    idle_in_transaction_session_timeout: await setting('idle_in_transaction_session_timeout'),
  };
  findings.push({ level: 'ok', check: 'database', message: `PostgreSQL ${version?.server_version}` });
  const disabled = Object.entries(timeouts).filter(([, value]) => value === '0');
  findings.push(
    disabled.length > 0
      ? {
          level: 'warn',
          check: 'timeouts',
          message: `${disabled.map(([name]) => name).join(', ')} disabled (0): a frozen server or a stuck lock can hang a run`,
          fix: 'set database.statementTimeout, database.lockTimeout and database.idleInTransactionTimeout above 0',
        }
      : { level: 'ok', check: 'timeouts', message: Object.entries(timeouts).map(([name, value]) => `${name} ${value}`).join(', ') },
  );
  const [major] = (version?.server_version ?? '0').split('.');
  if (Number(major) < 13) {
    findings.push({ level: 'warn', check: 'database', message: `PostgreSQL ${version?.server_version} is past its support life`, fix: 'upgrade to PostgreSQL 13 or later' });
  }
}

async function appliedMigrations(store: UsageStore): Promise<Set<string> | undefined> {
  const [table] = await store.client.query<{ exists: boolean }>('SELECT to_regclass($1) IS NOT NULL AS exists', [`"${store.schema}".utt_migrations`]);
  if (!table?.exists) return undefined;
  const rows = await store.client.query<{ name: string }>(`SELECT name FROM "${store.schema}".utt_migrations`);
  return new Set(rows.map((row) => row.name));
}

async function checkPrices(runtime: Runtime, store: UsageStore, findings: Finding[], now: Date): Promise<void> {
  const { pricing } = runtime.loaded.config;
  const file = path.resolve(runtime.cwd, pricing.file);
  const modified = await stat(file).then(
    (stats) => stats.mtime,
    () => undefined,
  );
  if (modified === undefined) {
    findings.push({ level: 'ok', check: 'prices', message: `no ${pricing.file}: the bundled price registry and the overrides are used` });
  } else if (now.getTime() - modified.getTime() > pricing.maxAge) {
    findings.push({
      level: 'warn',
      check: 'prices',
      message: `${pricing.file} is ${Math.floor((now.getTime() - modified.getTime()) / 86_400_000)} days old (pricing.maxAge ${Math.round(pricing.maxAge / 86_400_000)} days)`,
      fix: 'utt prices update',
    });
  } else {
    findings.push({ level: 'ok', check: 'prices', message: `${pricing.file} updated ${modified.toISOString()}` });
  }
  const listed = await unpricedModels(store);
  // Hours of calls whose usage never arrived lack a cost that no price can give: shown, not a pricing fault.
  const usageUnknown = listed.filter((model) => lacksOnlyUsage(model.reason));
  const all = listed.filter((model) => !lacksOnlyUsage(model.reason));
  if (usageUnknown.length > 0) {
    findings.push({ level: 'info', check: 'unpriced', message: `calls whose usage never arrived leave hours without a cost (not $0): ${describeUnpriced(usageUnknown.slice(0, 5))}${usageUnknown.length > 5 ? ', …' : ''}` });
  }
  // Self-hosted runtimes have no per-token price: their tokens stay visible as unpriced, which is not a fault.
  const local = all.filter((model) => LOCAL_PROVIDERS.has(model.provider.toLowerCase()));
  const unpriced = all.filter((model) => !LOCAL_PROVIDERS.has(model.provider.toLowerCase()));
  if (local.length > 0) {
    findings.push({ level: 'info', check: 'unpriced', message: `self-hosted, no per-token price (shown as unpriced tokens, not $0): ${describeUnpriced(local.slice(0, 5))}` });
  }
  if (unpriced.length > 0) {
    const shown = unpriced.slice(0, 5);
    findings.push({
      level: 'warn',
      check: 'unpriced',
      message: `${unpriced.length} model${unpriced.length === 1 ? '' : 's'} with tokens but no cost: ${describeUnpriced(shown)}${unpriced.length > 5 ? ', …' : ''}`,
      fix: 'add a price under pricing.overrides (or utt prices update), then utt reprice --since <first day>; utt prices check lists them all',
    });
  } else {
    findings.push({ level: 'ok', check: 'unpriced', message: `every model with tokens has a cost${local.length > 0 ? ' (self-hosted models aside)' : ''}` });
  }
}

async function checkSources(runtime: Runtime, store: UsageStore, findings: Finding[], now: Date): Promise<void> {
  const { worker, sources } = runtime.loaded.config;
  const statuses = new Map((await store.listStatus()).map((status) => [status.source, status]));
  const watermarks = new Map((await store.listWatermarks()).map((watermark) => [watermark.source, watermark]));
  let healthy = 0;
  for (const source of sources) {
    if (!source.enabled) continue;
    const status = statuses.get(source.name);
    if (source.paused) {
      findings.push({ level: 'info', check: `source ${source.name}`, message: 'paused: configured, not collecting' });
      continue;
    }
    if (!status) {
      findings.push({ level: 'warn', check: `source ${source.name}`, message: 'has never run', fix: `utt run --source ${source.name}` });
      continue;
    }
    if (status.status === 'error') {
      findings.push({
        level: 'FAIL',
        check: `source ${source.name}`,
        message: `failing since its last run at ${status.lastRunAt?.toISOString() ?? '?'}: ${status.lastError ?? 'no message'}`,
        fix: `utt check --source ${source.name}, fix what it names, then utt run --source ${source.name}`,
      });
      continue;
    }
    const staleAfter = source.staleAfter ?? worker.staleAfter;
    if (status.lastSuccessAt === null || now.getTime() - status.lastSuccessAt.getTime() > staleAfter) {
      findings.push({
        level: 'warn',
        check: `source ${source.name}`,
        message: `stale: last success ${status.lastSuccessAt?.toISOString() ?? 'never'} (staleAfter ${Math.round(staleAfter / 60_000)} min)`,
        fix: 'check that utt daemon (or the cron running utt run) is alive',
      });
    }
    const watermark = watermarks.get(source.name);
    const maxBackfill = source.maxBackfill ?? worker.maxBackfill;
    if (watermark && now.getTime() - watermark.watermark.getTime() > maxBackfill) {
      findings.push({
        level: 'warn',
        check: `source ${source.name}`,
        message: `watermark ${watermark.watermark.toISOString()} is further behind than maxBackfill (${Math.round(maxBackfill / 3_600_000)} h): the next cycle skips part of the gap`,
        fix: `utt backfill --source ${source.name} --since ${watermark.watermark.toISOString()}`,
      });
      continue;
    }
    healthy += 1;
  }
  const heartbeat = statuses.get(HEARTBEAT_SOURCE);
  if (healthy > 0) findings.push({ level: 'ok', check: 'sources', message: `${healthy} source${healthy === 1 ? '' : 's'} fresh and succeeding` });
  findings.push(
    heartbeat
      ? { level: 'ok', check: 'worker', message: `last cycle ended ${heartbeat.updatedAt.toISOString()}` }
      : { level: 'warn', check: 'worker', message: 'no cycle has run against this database yet', fix: 'utt run' },
  );
}

async function checkTables(store: UsageStore, findings: Finding[], now: Date): Promise<void> {
  const sizes: string[] = [];
  for (const table of TABLES) {
    const [row] = await store.client.query<{ rows: number; bytes: number }>(
      `SELECT (SELECT count(*) FROM "${store.schema}".${table})::bigint AS rows, pg_total_relation_size($1::regclass)::bigint AS bytes`,
      [`"${store.schema}".${table}`],
    );
    sizes.push(`${table} ${row?.rows ?? 0} rows, ${formatBytes(row?.bytes ?? 0)}`);
  }
  findings.push({ level: 'info', check: 'tables', message: sizes.join('; ') });
  const [growth] = await store.client.query<{ day: number; week: number }>(
    `SELECT count(*) FILTER (WHERE created_at > $1)::bigint AS day, count(*) FILTER (WHERE created_at > $2)::bigint AS week FROM "${store.schema}".token_usage`,
    [new Date(now.getTime() - 86_400_000), new Date(now.getTime() - 7 * 86_400_000)],
  );
  findings.push({ level: 'info', check: 'growth', message: `token_usage: ${growth?.day ?? 0} rows new in the last day, ${growth?.week ?? 0} in the last week` });
  const [partitioned] = await store.client.query<{ partitioned: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM pg_partitioned_table WHERE partrelid = $1::regclass) AS partitioned`,
    [`"${store.schema}".token_usage`],
  );
  findings.push({
    level: 'info',
    check: 'retention',
    message: partitioned?.partitioned
      ? 'token_usage is partitioned'
      : 'token_usage is one table, not partitioned; no retention deletes rows (history is kept until you delete it)',
  });
}

function formatBytes(bytes: number): string {
  if (bytes >= 1_073_741_824) return `${(bytes / 1_073_741_824).toFixed(1)} GiB`;
  if (bytes >= 1_048_576) return `${(bytes / 1_048_576).toFixed(1)} MiB`;
  return `${Math.round(bytes / 1024)} KiB`;
}

function print(findings: readonly Finding[]): void {
  const width = Math.max(...findings.map((finding) => finding.check.length));
  const lines = findings.map((finding) => {
    const head = `${finding.level.padEnd(4)}  ${finding.check.padEnd(width)}  ${finding.message}`;
    return finding.fix ? `${head}\n${' '.repeat(width + 8)}fix: ${finding.fix}` : head;
  });
  const problems = findings.filter((finding) => finding.level === 'FAIL' || finding.level === 'warn').length;
  lines.push('', problems === 0 ? 'no problems found' : `${problems} problem${problems === 1 ? '' : 's'} to fix`);
  process.stdout.write(`${lines.join('\n')}\n`);
}
