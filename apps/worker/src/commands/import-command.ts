import path from 'node:path';
import { describeCellIssue, ImportFileError, type ImportFormat, readImportEvents } from '@utt/adapter-manual-import';
import { createPricer } from '@utt/pricing';
import { EXIT_OK, EXIT_PARTIAL } from '../exit-codes';
import { workerPriceRegistry } from '../pricing/worker-price-registry';
import { openConfiguredStore, type Runtime } from '../runtime';
import { UsageError } from './parse-time-flag';

const MANUAL_SOURCE_SYSTEM = 'manual';
const LISTED_INVALID_ROWS = 20;
const IMPORT_FORMATS: readonly ImportFormat[] = ['csv', 'json', 'ndjson'];

/**
 * `utt import FILE`: a CSV, JSON or NDJSON file of per-request rows, each
 * quoted its own price (tier by its own prompt), summed per cell and per price
 * plan as they stream, the partial sums sent to the store with COPY, and the
 * cells written in one transaction. A bad row, or a cell whose sum
 * breaks a record rule, refuses the whole file (nothing is written) unless
 * --skip-invalid, which names the first LISTED_INVALID_ROWS bad rows and counts
 * the others; importing the same file again changes nothing (with --reprice,
 * it prices the rows again and replaces the stored costs). The instance's
 * cells the file no longer has are kept and named in a warning, or deleted
 * with --replace. Memory stays
 * flat whatever the number of rows, cells or bad rows.
 */
export async function importCommand(
  runtime: Runtime,
  file: string | undefined,
  flags: { skipInvalid?: boolean; instance?: string; format?: string; reprice?: boolean; replace?: boolean },
): Promise<number> {
  if (!file) throw new UsageError('import needs a FILE', 'import');
  if (flags.format !== undefined && !IMPORT_FORMATS.includes(flags.format as ImportFormat)) {
    throw new UsageError(`import: --format ${flags.format} is not a format utt imports; choose one of ${IMPORT_FORMATS.join(', ')}`, 'import');
  }
  const absolute = path.resolve(runtime.cwd, file);
  const registry = await workerPriceRegistry(runtime);
  const skipInvalid = flags.skipInvalid ?? false;
  // Each row is quoted its price before the roll-up, so a long-context tier applies per request; the store
  // sums a cell's tokens per price plan and prices each sum once, which equals pricing each row and summing.
  const stream = readImportEvents(absolute, {
    skipInvalid,
    // Only the rows printed are kept; the others are counted (bounded memory however many lines are bad).
    invalidRowLimit: LISTED_INVALID_ROWS,
    format: flags.format as ImportFormat | undefined,
    pricer: createPricer(registry),
    pricePlans: true,
  });
  const store = await openConfiguredStore(runtime);
  const sourceInstance = flags.instance || path.basename(absolute);
  try {
    const result = await store.importUsageEvents({
      sourceSystem: MANUAL_SOURCE_SYSTEM,
      sourceInstance,
      events: stream.batches,
      // A re-import keeps the computed costs it stored when the tokens are the same (no silent re-pricing of history);
      // --reprice replaces them: `utt reprice` cannot re-price a cell priced per request from its sum.
      reprice: flags.reprice ?? false,
      replace: flags.replace ?? false,
      review: (rollup) => {
        const [refused] = rollup.refusedCells;
        if (refused && !skipInvalid) {
          const issue = describeCellIssue(refused);
          throw new ImportFileError({ file: absolute, line: issue.line, field: issue.field, reason: issue.message });
        }
      },
    });
    const { progress } = stream;
    // The bad rows in line order, then the refused cells: both lists are bounded (the first of each), the counts exact.
    const invalid = [...progress.invalidRows.slice(0, LISTED_INVALID_ROWS), ...result.refusedCells.slice(0, LISTED_INVALID_ROWS).map(describeCellIssue)];
    const invalidCount = progress.invalidRowCount + result.refusedCellCount;
    const rowsImported = progress.rowsImported - result.refusedEvents;
    process.stdout.write(
      `${file}: ${progress.rowsRead} rows read, ${rowsImported} imported into ${result.rowsWritten} cells` +
        `${result.unpricedCells > 0 ? `, ${result.unpricedCells} cells unpriced` : ''}\n`,
    );
    for (const warning of result.partialCostCells.map(describeCellIssue)) {
      process.stdout.write(`warning: ${file}:${warning.line}: ${warning.field}: ${warning.message}\n`);
    }
    if (result.partialCostCellCount > result.partialCostCells.length) {
      process.stdout.write(`warning: … and ${result.partialCostCellCount - result.partialCostCells.length} more cells with a partial cost\n`);
    }
    if (result.storedCellsNotWritten > 0) {
      process.stdout.write(
        `warning: ${result.storedCellsNotWritten} cells an earlier import wrote into source_instance "${sourceInstance}" are not in this file and still count; ` +
          'if this file replaces that import, import it again with --replace to delete them\n',
      );
    }
    if (result.storedCellsDeleted > 0) {
      process.stdout.write(`${result.storedCellsDeleted} cells an earlier import wrote into source_instance "${sourceInstance}" are not in this file: deleted (--replace)\n`);
    }
    if (invalidCount > 0) {
      process.stdout.write(`${invalidCount} invalid rows skipped:\n`);
      for (const issue of invalid.slice(0, LISTED_INVALID_ROWS)) {
        process.stdout.write(`  ${file}:${issue.line}: ${issue.field}: ${issue.message}\n`);
      }
      if (invalidCount > LISTED_INVALID_ROWS) {
        process.stdout.write(`  … and ${invalidCount - LISTED_INVALID_ROWS} more\n`);
      }
      return EXIT_PARTIAL;
    }
    return EXIT_OK;
  } finally {
    await store.close();
  }
}
