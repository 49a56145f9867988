import { claudeSignedInAccount, claudeStatuslineReadings } from '@utt/adapter-claude-code';
import { parseQuotaReading, redactSecrets } from '@utt/core';
import { formatCountdown, formatPercent } from '../quota/quota-view';
import { openConfiguredStore, type Runtime } from '../runtime';

const STDIN_LIMIT_MS = 2000;
const STDIN_MAX_BYTES = 1 << 20;

/**
 * `utt statusline`: Claude Code runs it as its status line and pipes session
 * JSON to it. The rate_limits in it become quota readings (zero network: Claude
 * Code already has them from its own responses); one short line goes to
 * stdout. Always exits 0: a failing status line must not disturb the session,
 * so problems are shown in the line and logged to stderr.
 */
export async function statuslineCommand(runtime: Runtime, flags: { now?: Date }): Promise<number> {
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
    const used = formatPercent(reading.usedRatio);
    const flag = reading.status === 'rejected' ? ' LIMIT' : (reading.usedRatio ?? 0) >= config.quota.thresholds.warning ? ' !' : '';
    const reset = reading.resetsAt ? ` (${formatCountdown(now, reading.resetsAt)})` : '';
    return `${reading.window} ${used}${flag}${reset}`;
  });
  let suffix = '';
  if (readings.length > 0) {
    try {
      const store = await openConfiguredStore(runtime);
      try {
        await store.writeQuotaReadings({ source, sourceSystem: 'claude_code', readings, now });
      } finally {
        await store.close();
      }
    } catch (error) {
      suffix = ' (not recorded)';
      process.stderr.write(`utt statusline: ${redactSecrets(error instanceof Error ? error.message : String(error), runtime.loaded.secrets)}\n`);
    }
  }
  process.stdout.write(`${parts.length > 0 ? parts.join(' · ') : 'quota: waiting for the first response'}${suffix}\n`);
  return 0;
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
