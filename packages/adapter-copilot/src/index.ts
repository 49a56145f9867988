export { copilotAdapter, copilotAdapter as default } from './copilot-adapter';
export {
  type CopilotConfig,
  type CopilotConfigInput,
  copilotConfigSchema,
  type CopilotScope,
  type CopilotTokenEstimate,
  scopeOf,
} from './copilot-config';
export {
  ACTIVITY_FIGURES,
  type BillingUsage,
  type BillingUsageItem,
  billingUsageSchema,
  type ModelFeatureTotals,
  type ReportDayRecord,
  reportDayRecordSchema,
  type ReportLinks,
  reportLinksSchema,
} from './copilot-api';
export { COPILOT_PROVIDER, type ConvertMetricsOptions, convertReportDay } from './convert-copilot-metrics';
export { type BillingReportKind, type ConvertBillingOptions, convertBillingDay, decimalFromNumber } from './convert-copilot-billing';
export { parseNdjson } from './parse-ndjson';
export { type CopilotEndpointKind, permissionHint } from './copilot-permission-hint';
export { VERSION } from './version';
