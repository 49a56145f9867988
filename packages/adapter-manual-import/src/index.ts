import { manualImportAdapter } from './manual-import-adapter';

export { manualImportAdapter } from './manual-import-adapter';
export { type ManualImportConfig, manualImportConfigSchema } from './manual-import-config';
export {
  type ImportFormat,
  type ImportResult,
  type ImportUsageFileOptions,
  importUsageFile,
} from './import-usage-file';
export { ImportFileError } from './import-file-error';
export type { ImportIssue } from './import-issue';
export { type ImportColumn, IMPORT_COLUMNS, REQUIRED_IMPORT_COLUMNS } from './import-columns';
export { VERSION } from './version';

/** The worker loads adapters by package name and takes the default export. */
export default manualImportAdapter;
export { importQuotaFile } from './import-quota-file';
