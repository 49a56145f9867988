import { checkAdapterDefinition } from './checks/check-adapter-definition';
import { checkConfigValidation } from './checks/check-config-validation';
import { checkDeadline } from './checks/check-deadline';
import { checkExpectedRecords } from './checks/check-expected-records';
import { checkIdempotence } from './checks/check-idempotence';
import { checkRecordSchema } from './checks/check-record-schema';
import { checkRecordWindow } from './checks/check-record-window';
import { checkRetryAfter } from './checks/check-retry-after';
import { checkSecretsStayHidden } from './checks/check-secrets-stay-hidden';
import { checkServerErrorRetry } from './checks/check-server-error-retry';
import { checkTokenSemantics } from './checks/check-token-semantics';
import type { UsageAdapterConformanceOptions } from './usage-adapter-conformance-options';

/** One conformance check: a list of problems, empty when the adapter passes. */
export type ConformanceCheck = {
  readonly title: string;
  /** False when the check does not apply to these options (it is then reported as skipped). */
  readonly appliesTo: (options: UsageAdapterConformanceOptions) => boolean;
  readonly run: (options: UsageAdapterConformanceOptions) => Promise<string[]>;
  readonly timeoutMs: number;
};

const always = () => true;
const withHttp = (options: UsageAdapterConformanceOptions) => options.http !== undefined;

/** Every check `describeUsageAdapterConformance` registers, in order. */
export const CONFORMANCE_CHECKS: readonly ConformanceCheck[] = [
  {
    title: 'definition: v1 shape, kebab-case id, snake_case sourceSystem, valid capabilities (and the default export, given entry)',
    appliesTo: always,
    run: checkAdapterDefinition,
    timeoutMs: 5_000,
  },
  {
    title: 'config: accepts the given config; rejects {}, wrong types and unknown keys with issues that name a path and hide values',
    appliesTo: always,
    run: checkConfigValidation,
    timeoutMs: 5_000,
  },
  { title: 'records: collect() returns records that all pass parseUsageRecord', appliesTo: always, run: checkRecordSchema, timeoutMs: 20_000 },
  {
    title: 'window: records sit on declared bucket boundaries inside [window.start, window.end)',
    appliesTo: always,
    run: checkRecordWindow,
    timeoutMs: 20_000,
  },
  {
    title: 'tokens: buckets keep their meaning and unreported columns stay NULL',
    appliesTo: always,
    run: checkTokenSemantics,
    timeoutMs: 20_000,
  },
  {
    title: 'expected: a stated real response becomes the stated records (required when the adapter reports cache tokens)',
    appliesTo: (options) => options.expected !== undefined || options.adapter?.capabilities?.cacheTokens !== 'none',
    run: checkExpectedRecords,
    timeoutMs: 20_000,
  },
  { title: 'idempotence: the same window twice gives the same records, no duplicate keys', appliesTo: always, run: checkIdempotence, timeoutMs: 20_000 },
  {
    title: 'secrets: canary secrets never reach records, logs or errors',
    appliesTo: (options) => (options.canarySecrets ?? []).length > 0,
    run: checkSecretsStayHidden,
    timeoutMs: 20_000,
  },
  { title: 'http: survives a 429 with Retry-After: 1', appliesTo: withHttp, run: checkRetryAfter, timeoutMs: 20_000 },
  { title: 'http: survives a 500', appliesTo: withHttp, run: checkServerErrorRetry, timeoutMs: 20_000 },
  { title: 'http: fails within the deadline when the server never answers', appliesTo: withHttp, run: checkDeadline, timeoutMs: 20_000 },
];
