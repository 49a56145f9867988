export { anthropicUsageAdapter, anthropicUsageAdapter as default } from './anthropic-usage-adapter';
export {
  ANTHROPIC_DEFAULT_BASE_URL,
  ANTHROPIC_DEFAULT_VERSION,
  ANTHROPIC_GROUPINGS,
  type AnthropicGrouping,
  type AnthropicUsageConfig,
  type AnthropicUsageConfigInput,
  anthropicUsageConfigSchema,
} from './anthropic-usage-config';
export { ANTHROPIC_PROVIDER, convertAnthropicUsage } from './convert-anthropic-usage';
export { centsToDollars, convertAnthropicCosts } from './convert-anthropic-costs';
export { ANTHROPIC_KEY_REQUIREMENT, describeAnthropicError } from './describe-anthropic-error';
export {
  type AnthropicBucket,
  type AnthropicCostResult,
  type AnthropicMessagesUsageResult,
  anthropicCostReportPageSchema,
  anthropicMessagesUsagePageSchema,
} from './anthropic-usage-api';
export { VERSION } from './version';
