export { openaiUsageAdapter, openaiUsageAdapter as default } from './openai-usage-adapter';
export {
  OPENAI_DEFAULT_BASE_URL,
  OPENAI_GROUPINGS,
  OPENAI_USAGE_ENDPOINTS,
  type OpenaiGrouping,
  type OpenaiUsageConfig,
  type OpenaiUsageConfigInput,
  type OpenaiUsageEndpoint,
  openaiUsageConfigSchema,
} from './openai-usage-config';
export { convertOpenaiUsage, OPENAI_PROVIDER, type OpenaiUsageBuckets } from './convert-openai-usage';
export { convertOpenaiCosts, modelOfLineItem } from './convert-openai-costs';
export { describeOpenaiError, OPENAI_KEY_REQUIREMENT } from './describe-openai-error';
export {
  type OpenaiBucket,
  type OpenaiCompletionsResult,
  type OpenaiCostsResult,
  type OpenaiEmbeddingsResult,
  type OpenaiRequestsResult,
  openaiCompletionsPageSchema,
  openaiCostsPageSchema,
  openaiEmbeddingsPageSchema,
  openaiRequestsPageSchema,
} from './openai-usage-api';
export { VERSION } from './version';
