import path from 'node:path';
import { type ImportFormat, importUsageFile } from '@utt/adapter-manual-import';
import { toUsageRow } from '@utt/core';
import { createPricer } from '@utt/pricing';
import { priceRows } from '../cycle/price-rows';
import { EXIT_OK, EXIT_PARTIAL } from '../exit-codes';
import { workerPriceRegistry } from '../pricing/worker-price-registry';
import { openConfiguredStore, type Runtime } from '../runtime';
import { UsageError } from './parse-time-flag';

const MANUAL_SOURCE_SYSTEM = 'manual';
const LISTED_INVALID_ROWS = 20;
const IMPORT_FORMATS: readonly ImportFormat[] = ['csv', 'json', 'ndjson'];

/**
 * `utt import FILE`: a CSV, JSON or NDJSON file rolled up into buckets and
 * written in one transaction. A bad row refuses the whole file (nothing is
 * written) unless --skip-invalid; importing the same file again changes nothing.
 */
export async function importCommand(
  runtime: Runtime,
  file: string | undefined,
  flags: { skipInvalid?: boolean; instance?: string; format?: string },
): Promise<number> {
  if (!file) throw new UsageError('import needs a FILE', 'import');
  if (flags.format !== undefined && !IMPORT_FORMATS.includes(flags.format as ImportFormat)) {
    throw new UsageError(`import: --format ${flags.format} is not a format utt imports; choose one of ${IMPORT_FORMATS.join(', ')}`, 'import');
  }
  const absolute = path.resolve(runtime.cwd, file);
  const registry = await workerPriceRegistry(runtime);
  // Each row is priced before the rollup, so a long-context tier applies per request.
  const result = await importUsageFile(absolute, {
    skipInvalid: flags.skipInvalid,
    sourceInstance: flags.instance,
    format: flags.format as ImportFormat | undefined,
    pricer: createPricer(registry),
  });
  const rows = result.records.map((record, index) =>
    toUsageRow(record, {
      sourceSystem: MANUAL_SOURCE_SYSTEM,
      defaultInstance: flags.instance ?? path.basename(absolute),
      where: `${file} cell ${index}`,
    }),
  );
  const priced = priceRows(rows, registry);
  const store = await openConfiguredStore(runtime);
  try {
    const { rowsWritten } = await store.writeSourceWindow({
      source: `import:${path.basename(absolute)}`,
      sourceSystem: MANUAL_SOURCE_SYSTEM,
      rows: priced.rows,
    });
    process.stdout.write(
      `${file}: ${result.rowsRead} rows read, ${result.rowsImported} imported into ${rowsWritten} cells` +
        `${priced.unpriced.length > 0 ? `, ${priced.unpriced.length} cells unpriced` : ''}\n`,
    );
    for (const warning of result.warnings) {
      process.stdout.write(`warning: ${file}:${warning.line}: ${warning.field}: ${warning.message}\n`);
    }
    if (result.invalidRows.length > 0) {
      process.stdout.write(`${result.invalidRows.length} invalid rows skipped:\n`);
      for (const invalid of result.invalidRows.slice(0, LISTED_INVALID_ROWS)) {
        process.stdout.write(`  ${file}:${invalid.line}: ${invalid.field}: ${invalid.message}\n`);
      }
      if (result.invalidRows.length > LISTED_INVALID_ROWS) {
        process.stdout.write(`  … and ${result.invalidRows.length - LISTED_INVALID_ROWS} more\n`);
      }
      return EXIT_PARTIAL;
    }
    return EXIT_OK;
  } finally {
    await store.close();
  }
}
