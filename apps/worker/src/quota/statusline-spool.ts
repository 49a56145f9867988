import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseQuotaReading, type QuotaReading } from '@utt/core';
import type { UsageStore } from '@utt/postgres';
import type { Runtime } from '../runtime';

/** Where `utt statusline` leaves readings for the process that owns the database: beside the PGlite folder, or `.utt/`. */
export function statuslineSpoolDirectory(runtime: Runtime): string {
  const database = runtime.loaded.config.database;
  return path.join(database.url ? path.resolve(runtime.cwd, '.utt') : path.dirname(path.resolve(runtime.cwd, database.path)), 'statusline');
}

/** Replaces the source's spool file atomically: the latest statusline reading wins. */
export async function writeStatuslineSpool(runtime: Runtime, source: string, readings: readonly QuotaReading[]): Promise<string> {
  const directory = statuslineSpoolDirectory(runtime);
  await mkdir(directory, { recursive: true });
  const spool = path.join(directory, `${source.replace(/[^A-Za-z0-9._-]/g, '_')}.json`);
  const temporary = `${spool}.${process.pid}.tmp`;
  await writeFile(temporary, JSON.stringify(readings));
  await rename(temporary, spool);
  return spool;
}

/**
 * Stores spooled statusline readings and removes their files. A file rewritten
 * while it was being stored is kept for the next run. Returns how many
 * readings were stored or confirmed.
 */
export async function ingestStatuslineSpools(runtime: Runtime, store: UsageStore, only?: string): Promise<number> {
  const directory = statuslineSpoolDirectory(runtime);
  const files = only ? [only] : (await readdir(directory).catch(() => [] as string[])).filter((name) => name.endsWith('.json')).map((name) => path.join(directory, name));
  let count = 0;
  for (const file of files) {
    const text = await readFile(file, 'utf8').catch(() => null);
    if (text === null) continue;
    let readings: QuotaReading[];
    try {
      readings = (JSON.parse(text) as Record<string, unknown>[]).map((reading) => parseQuotaReading(reading as never, { source: String(reading.source) }));
    } catch (error) {
      runtime.logger.warn('a statusline spool file is not readable; removed', { file, error: (error as Error).message });
      await rm(file, { force: true });
      continue;
    }
    const bySource = new Map<string, QuotaReading[]>();
    for (const reading of readings) bySource.set(reading.source, [...(bySource.get(reading.source) ?? []), reading]);
    for (const [source, list] of bySource) {
      const result = await store.writeQuotaReadings({ source, sourceSystem: 'claude_code', readings: list, now: list[0]?.observedAt });
      count += result.stored + result.confirmed;
    }
    if ((await readFile(file, 'utf8').catch(() => '')) === text) await rm(file, { force: true });
  }
  return count;
}
