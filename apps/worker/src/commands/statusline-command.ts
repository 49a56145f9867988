import { spawn } from 'node:child_process';
import { stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { claudeSignedInAccount, claudeStatuslineReadings } from '@utt/adapter-claude-code';
import { parseQuotaReading, type QuotaReading, redactSecrets } from '@utt/core';
import { formatCountdown, formatPercent } from '../quota/quota-view';
import { ingestStatuslineSpools, statuslineSpoolDirectory, writeStatuslineSpool } from '../quota/statusline-spool';
import { openConfiguredStore, type Runtime } from '../runtime';

const STDIN_LIMIT_MS = 2000;
const STDIN_MAX_BYTES = 1 << 20;
/** Claude Code runs the status line every few hundred milliseconds while it works: store at most this often. */
const INGEST_INTERVAL_MS = 60_000;

/**
 * `utt statusline`: Claude Code runs it as its status line and pipes session
 * JSON to it. The rate_limits in it become quota readings (zero network: Claude
 * Code already has them from its own responses). The line is printed at once;
 * the readings go to a spool file next to the database and a detached process
 * stores them (opening the database takes longer than a status line may),
 * at most once a minute, the latest reading winning. `--wait` stores them
 * before exiting. Always exits 0: a failing status line must not disturb the
 * session, so problems are shown in the line and logged to stderr.
 */
export async function statuslineCommand(runtime: Runtime, flags: { now?: Date; wait?: boolean; ingest?: string }): Promise<number> {
  if (flags.ingest) return ingestSpool(runtime, flags.ingest);
  const now = flags.now ?? new Date();
  let parsed: unknown = null;
  try {
    parsed = JSON.parse(await readStdin());
  } catch {
    process.stdout.write('utt: no statusline JSON on stdin\n');
    return 0;
  }
  const config = runtime.loaded.config;
  const account = config.quota.statusline.account ?? (await claudeSignedInAccount(runtime.env)) ?? 'claude-code';
  const source =
    config.quota.statusline.source ?? config.sources.find((entry) => /(^|[/-])claude-code$/.test(entry.adapter))?.name ?? 'claude-statusline';
  const readings = claudeStatuslineReadings(parsed, { account, observedAt: now }).map((reading) => parseQuotaReading(reading, { source }));
  const parts = readings.map((reading) => {
    const flag = reading.status === 'rejected' ? ' LIMIT' : (reading.usedRatio ?? 0) >= config.quota.thresholds.warning ? ' !' : '';
    const reset = reading.resetsAt ? ` (${formatCountdown(now, reading.resetsAt)})` : '';
    return `${reading.window} ${formatPercent(reading.usedRatio)}${flag}${reset}`;
  });
  let suffix = '';
  if (readings.length > 0) {
    try {
      if (flags.wait) await storeReadings(runtime, readings, now);
      else await spoolAndIngest(runtime, readings, source);
    } catch (error) {
      suffix = ' (not recorded)';
      process.stderr.write(`utt statusline: ${redactSecrets(error instanceof Error ? error.message : String(error), runtime.loaded.secrets)}\n`);
    }
  }
  process.stdout.write(`${parts.length > 0 ? parts.join(' · ') : 'quota: waiting for the first response'}${suffix}\n`);
  return 0;
}

/**
 * Spools the readings. On PostgreSQL a detached process stores them (at most
 * once a minute); PGlite allows one process per folder, so there the next
 * `utt run`, daemon cycle or `utt quota` (the database's owner) stores them.
 */
async function spoolAndIngest(runtime: Runtime, readings: readonly QuotaReading[], source: string): Promise<void> {
  const spool = await writeStatuslineSpool(runtime, source, readings);
  if (!runtime.loaded.config.database.url) return;
  const marker = path.join(statuslineSpoolDirectory(runtime), '.last-ingest');
  const last = await stat(marker).then((info) => info.mtimeMs, () => 0);
  if (Date.now() - last < INGEST_INTERVAL_MS) return;
  await writeFile(marker, '');
  const child = spawn(process.execPath, [process.argv[1] as string, 'statusline', '--ingest', spool, '--config', runtime.loaded.file], {
    cwd: runtime.cwd,
    detached: true,
    stdio: 'ignore',
    env: process.env,
  });
  child.unref();
}

/** The background half: stores one spool file. */
async function ingestSpool(runtime: Runtime, spool: string): Promise<number> {
  try {
    const store = await openConfiguredStore(runtime);
    try {
      await ingestStatuslineSpools(runtime, store, spool);
    } finally {
      await store.close();
    }
  } catch (error) {
    process.stderr.write(`utt statusline: ${redactSecrets(error instanceof Error ? error.message : String(error), runtime.loaded.secrets)}\n`);
  }
  return 0;
}

async function storeReadings(runtime: Runtime, readings: readonly QuotaReading[], now: Date): Promise<void> {
  const store = await openConfiguredStore(runtime);
  try {
    await store.writeQuotaReadings({ source: readings[0]?.source ?? 'claude-statusline', sourceSystem: 'claude_code', readings, now });
  } finally {
    await store.close();
  }
}

/** All of stdin, or what arrived within 2 s (a TTY or a stuck pipe must not hang the status line). */
function readStdin(): Promise<string> {
  return new Promise((resolve) => {
    if (process.stdin.isTTY) {
      resolve('');
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = () => {
      clearTimeout(timer);
      process.stdin.removeAllListeners();
      process.stdin.pause();
      resolve(Buffer.concat(chunks).toString('utf8'));
    };
    const timer = setTimeout(finish, STDIN_LIMIT_MS);
    process.stdin.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= STDIN_MAX_BYTES) chunks.push(chunk);
    });
    process.stdin.on('end', finish);
    process.stdin.on('error', finish);
  });
}
