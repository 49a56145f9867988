import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import path from 'node:path';
import { defineAdapter, type UsageRecord, usageRowKey } from '@utt/core';
import { importCostFile } from './import-cost-file';
import { ImportFileError } from './import-file-error';
import { importQuotaFile } from './import-quota-file';
import { importUsageFile } from './import-usage-file';
import { type ManualImportConfig, manualImportConfigSchema } from './manual-import-config';

const SOURCE_SYSTEM = 'manual';

/**
 * Imports usage from CSV, JSON or NDJSON files (see importUsageFile). Not
 * windowed: every collect returns everything the files hold, whatever the
 * window, and replacement makes running it again harmless.
 */
export const manualImportAdapter = defineAdapter({
  specificationVersion: 'v1',
  id: 'manual-import',
  sourceSystem: SOURCE_SYSTEM,
  configSchema: manualImportConfigSchema,
  capabilities: {
    granularities: ['day', 'hour', 'month'],
    cacheTokens: 'read_write',
    costSource: 'provider',
    measurementBasis: 'derived_estimate',
    maxBackfillDays: null,
    windowed: false,
  },

  async check(context) {
    for (const file of resolveFiles(allFiles(context.config), context.configDirectory)) {
      try {
        await access(file, constants.R_OK);
        if (!(await stat(file)).isFile()) return { ok: false, reason: `${file}: is not a file` };
      } catch (error) {
        const code = (error as { code?: unknown }).code;
        return { ok: false, reason: `${file}: ${code === 'ENOENT' ? 'file not found' : 'cannot be read'}` };
      }
    }
    const count = allFiles(context.config).length;
    return { ok: true, detail: `${count} file${count === 1 ? '' : 's'} readable` };
  },

  async collect(_window, context) {
    const { skipInvalid, instance } = context.config;
    const files = resolveFiles(context.config.files, context.configDirectory);
    const records: UsageRecord[] = [];
    // Files sharing a source_instance must not hold the same cell: the store
    // would write one over the other (or refuse the batch).
    const cellOwners = new Map<string, string>();
    for (const file of files) {
      const result = await importUsageFile(file, { skipInvalid, sourceInstance: instance, signal: context.signal, pricer: context.pricer });
      for (const issue of result.invalidRows) {
        context.logger.warn('skipped an invalid row', { file, line: issue.line, field: issue.field, reason: issue.message });
      }
      if (result.invalidRowCount > result.invalidRows.length) {
        context.logger.warn(`skipped ${result.invalidRowCount - result.invalidRows.length} more invalid rows`, { file });
      }
      for (const warning of result.warnings) {
        context.logger.warn(warning.message, { file, line: warning.line, field: warning.field });
      }
      context.logger.info('imported usage file', {
        file,
        format: result.format,
        rowsRead: result.rowsRead,
        rowsImported: result.rowsImported,
        rowsSkipped: result.invalidRowCount,
        records: result.records.length,
      });
      for (const record of result.records) {
        if (files.length > 1) {
          const key = usageRowKey({ ...record, source_system: SOURCE_SYSTEM });
          const owner = cellOwners.get(key);
          if (owner !== undefined) {
            throw new ImportFileError({
              file,
              reason: `holds the same ${record.granularity} cell (${record.provider}/${record.model} at ${record.bucket_start.toISOString()}) as ${owner}, both with source_instance "${record.source_instance}"; merge the files into one, or import them as separate sources with different instances`,
            });
          }
          cellOwners.set(key, file);
        }
        records.push(record);
      }
    }
    return records;
  },

  /** What the provider billed, from `costFiles`: every row of every file, whatever the window, like the usage files. */
  async collectProviderCosts(_window, context) {
    const { skipInvalid, instance } = context.config;
    const records = [];
    for (const file of resolveFiles(context.config.costFiles ?? [], context.configDirectory)) {
      const result = await importCostFile(file, { skipInvalid, sourceInstance: instance, signal: context.signal });
      for (const issue of result.invalidRows) {
        context.logger.warn('skipped an invalid row', { file, line: issue.line, field: issue.field, reason: issue.message });
      }
      context.logger.info('imported cost file', { file, rowsRead: result.rowsRead, records: result.records.length, rowsSkipped: result.invalidRows.length });
      for (const record of result.records) records.push(record);
    }
    return records;
  },

  /** Quota history from `quotaFiles` (JSON Lines of readings). */
  async collectQuota(context) {
    const readings = [];
    for (const file of resolveFiles(context.config.quotaFiles ?? [], context.configDirectory)) {
      const imported = await importQuotaFile(file, {
        skipInvalid: context.config.skipInvalid,
        onSkipped: (line, reason) => context.logger.warn('skipped an invalid quota line', { file, line, reason }),
      });
      for (const reading of imported) readings.push(reading);
    }
    return readings;
  },
});

function allFiles(config: ManualImportConfig): readonly string[] {
  return [...config.files, ...(config.quotaFiles ?? []), ...(config.costFiles ?? [])];
}

/** Relative paths in the config mean the config file's folder when the worker names it. */
function resolveFiles(files: readonly string[], configDirectory: string | undefined): readonly string[] {
  return configDirectory === undefined ? files : files.map((file) => path.resolve(configDirectory, file));
}
