import { EXIT_OK, EXIT_PARTIAL } from '../exit-codes';
import { formatTable } from '../output/format-table';
import { openConfiguredStore, type Runtime } from '../runtime';
import { HEARTBEAT_SOURCE, quotaStatusSource } from '@utt/postgres';
import { parseDurationFlag } from './parse-time-flag';



/**
 * `utt watchdog`: reads only the database (no provider is called, no adapter
 * is loaded), so cron can run it when the worker is dead. Fresh means a
 * successful write within the source's staleAfter, judged on update times,
 * never on created_at (invariant 8); paused sources are reported, never stale
 * (invariant 9). Exit 0 when all is fresh, 2 with the stale ones named.
 */
export async function watchdogCommand(runtime: Runtime, flags: { staleAfter?: string; now?: Date }): Promise<number> {
  const { worker, sources } = runtime.loaded.config;
  const heartbeatLimit = parseDurationFlag('stale-after', flags.staleAfter, 'watchdog') ?? worker.staleAfter;
  const now = flags.now ?? new Date();
  const store = await openConfiguredStore(runtime);
  try {
    const statuses = new Map((await store.freshness()).map((status) => [status.source, status]));
    const lines: string[][] = [];
    const stale: string[] = [];
    const judge = (name: string, limitMs: number, paused: boolean) => {
      const status = statuses.get(name);
      if (paused) {
        lines.push([name, 'paused', status ? age(now, status.updatedAt) : 'never', '']);
        return;
      }
      const lastSuccess = status?.lastSuccessAt ?? null;
      const fresh = lastSuccess !== null && now.getTime() - lastSuccess.getTime() <= limitMs;
      if (!fresh) stale.push(name);
      lines.push([
        name,
        fresh ? (status?.status === 'error' ? 'fresh (last run failed)' : 'fresh') : 'STALE',
        lastSuccess ? age(now, lastSuccess) : 'never',
        status?.status === 'error' ? (status.lastError ?? '') : '',
      ]);
    };
    judge(HEARTBEAT_SOURCE, heartbeatLimit, false);
    for (const source of sources) {
      if (!source.enabled) continue;
      judge(source.name, flags.staleAfter ? heartbeatLimit : (source.staleAfter ?? worker.staleAfter), source.paused);
      // A source that reads quota has its own row, `quota:<name>`: watched once it exists.
      if (statuses.has(quotaStatusSource(source.name))) {
        judge(quotaStatusSource(source.name), flags.staleAfter ? heartbeatLimit : (source.staleAfter ?? worker.staleAfter), source.paused);
      }
    }
    process.stdout.write(`${formatTable(['source', 'state', 'last success', 'last error'], lines)}\n`);
    if (stale.length > 0) {
      process.stdout.write(`\nstale: ${stale.join(', ')}\n`);
      return EXIT_PARTIAL;
    }
    return EXIT_OK;
  } finally {
    await store.close();
  }
}

function age(now: Date, then: Date): string {
  const seconds = Math.max(0, Math.round((now.getTime() - then.getTime()) / 1000));
  if (seconds < 120) return `${seconds} s ago`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min ago`;
  if (seconds < 172_800) return `${Math.round(seconds / 3600)} h ago`;
  return `${Math.round(seconds / 86_400)} d ago`;
}
