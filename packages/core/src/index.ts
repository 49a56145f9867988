// The adapter contract (types only) and its runtime helpers.
export type { UsageAdapterV1 } from './adapter/v1/usage-adapter-v1';
export type { UsageAdapterV1Capabilities } from './adapter/v1/usage-adapter-v1-capabilities';
export type { UsageAdapterV1CheckResult } from './adapter/v1/usage-adapter-v1-check-result';
export type { UsageAdapterV1CollectResult } from './adapter/v1/usage-adapter-v1-collect-result';
export type { UsageAdapterV1Context } from './adapter/v1/usage-adapter-v1-context';
export type { UsageAdapterV1State } from './adapter/v1/usage-adapter-v1-state';
export type { UsageAdapterV1StateSelection } from './adapter/v1/usage-adapter-v1-state-selection';
export type {
  UsageAdapterV1PriceInput,
  UsageAdapterV1PriceResult,
  UsageAdapterV1Pricer,
} from './adapter/v1/usage-adapter-v1-pricer';
export type { UsageAdapterV1PlanUsage, UsageAdapterV1PricePlan, UsageAdapterV1PriceQuote } from './adapter/v1/usage-adapter-v1-price-plan';
export type { UsageAdapterV1Window } from './adapter/v1/usage-adapter-v1-window';
export type { QuotaObtainedViaV1, QuotaReadingV1, QuotaStatusV1 } from './adapter/v1/quota-reading-v1';
export { defineAdapter } from './adapter/define-adapter';
export { readCollectResult } from './adapter/read-collect-result';
export { describeUsageAdapterV1Problems, isUsageAdapterV1 } from './adapter/is-usage-adapter-v1';
export { resolveUsageAdapter, SUPPORTED_SPECIFICATION_VERSIONS } from './adapter/resolve-usage-adapter';

// What @utt/tracker hands a sink (types only); @utt/postgres implements the sink.
export type { TrackedCallV1, UsageOriginV1 } from './tracker/v1/tracked-call-v1';
export type { SpendQueryV1, SpendScopeV1, TrackerSinkV1, TrackerSinkWriteV1 } from './tracker/v1/tracker-sink-v1';

// Source state.
export { createStagedState, type StagedState, type StagedStateChanges, type StateLoader } from './state/staged-state';
export { StateJsonText } from './state/state-json-text';

// Records.
export {
  COST_SOURCES,
  type CostSource,
  KEY_COLUMNS,
  MEASUREMENT_BASES,
  type MeasurementBasis,
  TOKEN_COLUMNS,
  type TokenColumn,
  type UsageRecord,
  type UsageRecordInput,
  type UsageRow,
  usageRecordSchema,
  usageRowKey,
} from './record/usage-record';
export { mergeUsageRecords } from './record/merge-usage-records';
export {
  bucketRangeProblem,
  DIMENSION_LIMITS,
  dimensionTextProblem,
  EARLIEST_BUCKET,
  LATEST_BUCKET_END,
  labelsProblem,
} from './record/dimension-text';
export { parseUsageRecord, toProviderCostRow, toUsageRow, type ToUsageRowOptions, toUsageRows } from './record/parse-usage-record';
export {
  type ProviderCostRecord,
  type ProviderCostRecordInput,
  type ProviderCostRow,
  providerCostRecordSchema,
  providerCostRowKey,
} from './record/provider-cost-record';

// Quota readings and their analyses.
export { effectiveUsedRatio, parseQuotaReading, QUOTA_OBTAINED_VIA, QUOTA_STATUSES, type QuotaReading } from './quota/quota-reading';
export { classifyQuotaWindow, scopeSuffix } from './quota/classify-quota-window';
export { quotaReadingsFromHeaders, type RateLimitHeaderOptions, type RateLimitHeaderSource } from './quota/rate-limit-headers';
export {
  DEFAULT_QUOTA_THRESHOLDS,
  latestQuotaReadings,
  QUOTA_SEVERITY_EXIT_CODES,
  type QuotaSeverity,
  quotaSeriesKey,
  quotaSeverity,
  type QuotaThresholds,
  worstQuotaSeverity,
} from './quota/quota-severity';
export { type QuotaPace, quotaPace, type QuotaPaceOptions } from './quota/quota-pace';
export { type QuotaHistoricalPace, quotaHistoricalPace } from './quota/quota-historical-pace';
export { isoWeekOf, type QuotaExhaustion, type QuotaWeek, quotaWeekly } from './quota/quota-weekly';
export { type QuotaRotationEntry, type QuotaRotationGroup, rotateQuotaAccounts } from './quota/quota-rotation';
export { type QuotaUnderspend, type QuotaUnderspendOptions, quotaUnderspend } from './quota/quota-underspend';
export { quotaResets } from './quota/quota-resets';
export { formatCountdown, type QuotaStatusRow, quotaStatusRows } from './quota/quota-status';

// Time.
export { GRANULARITIES, type Granularity, isGranularity } from './time/granularity';
export { addBuckets, bucketStartsBetween, ceilToBucket, floorToBucket, isAlignedToBucket } from './time/bucket';
export { alignWindow, type CollectionPlan, planCollectionWindow, snapWatermark, type TimeWindow } from './time/time-window';
export { parseDuration } from './time/duration';

// Counters.
export { type CounterSample, counterDelta, counterIncrease, counterIncreaseByBucket } from './counter/counter-increase';

// Cost.
export { computeCost, type CostResult } from './cost/compute-cost';
export { findPrice, type PriceMatch, type PriceTable, type TokenPrice } from './cost/token-price';
export { addDecimals, formatScaledInteger, toScaledInteger } from './cost/decimal';

// HTTP.
export {
  createHttpClient,
  DEFAULT_HTTP_DEADLINE_MS,
  DEFAULT_HTTP_RETRY_BUDGET_MS,
  DEFAULT_HTTP_MAX_RESPONSE_BYTES,
  type HttpClient,
  type HttpClientOptions,
  type HttpRequest,
  type HttpResponse,
  type QueryValue,
} from './http/http-client';
export { type CursorPage, followCursorPages } from './http/follow-cursor-pages';
export { parseRetryAfter } from './http/retry-after';
export { endpointOf } from './http/endpoint-of';

// Errors.
export { UttError } from './errors/utt-error';
export { AdapterHttpError, type AdapterHttpFailure } from './errors/adapter-http-error';
export { ConfigValidationError } from './errors/config-validation-error';
export { InvalidAdapterError } from './errors/invalid-adapter-error';
export { InvalidRecordError } from './errors/invalid-record-error';
export { MissingSecretError } from './errors/missing-secret-error';
export { ResponseShapeError } from './errors/response-shape-error';
export { StateNotLoadedError } from './errors/state-not-loaded-error';
export { UnsupportedAdapterVersionError } from './errors/unsupported-adapter-version-error';

// Secrets, schemas, logging.
export { requireSecret } from './secret/read-secret';
export { redactSecrets } from './secret/redact-secrets';
export { ConfigTooLargeError, MAX_CONFIG_VALUES, passwordOfUrl, secretValuesOf, type Substitution, substituteEnv } from './config/substitute-env';
export { formatIssuePath, formatIssues } from './schema/format-issues';
export { type SchemaValidationResult, validateWithSchema } from './schema/validate-with-schema';
export { type LogFields, type Logger, silentLogger } from './logger';
export { VERSION } from './version';

/** zod, re-exported so an adapter needs only @utt/core. */
export { z } from 'zod';
