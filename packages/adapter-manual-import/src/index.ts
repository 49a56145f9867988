import { manualImportAdapter } from './manual-import-adapter';

export { manualImportAdapter } from './manual-import-adapter';
export { type ManualImportConfig, manualImportConfigSchema } from './manual-import-config';
export {
  type ImportEvent,
  type ImportEventStream,
  type ImportFormat,
  type ImportProgress,
  type ImportResult,
  type ImportUsageFileOptions,
  importUsageFile,
  INVALID_ROW_LIMIT,
  readImportEvents,
} from './import-usage-file';
export { ImportFileError } from './import-file-error';
export { describeCellIssue } from './describe-cell-issue';
export type { ImportIssue } from './import-issue';
export { type ImportColumn, IMPORT_COLUMNS, REQUIRED_IMPORT_COLUMNS } from './import-columns';
export { VERSION } from './version';

/** The worker loads adapters by package name and takes the default export. */
export default manualImportAdapter;
export { importQuotaFile } from './import-quota-file';
export { COST_COLUMNS, type ImportCostFileOptions, type ImportCostResult, importCostFile, REQUIRED_COST_COLUMNS } from './import-cost-file';
