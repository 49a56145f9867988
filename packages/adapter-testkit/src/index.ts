// The suite.
export { describeUsageAdapterConformance } from './describe-usage-adapter-conformance';
export type {
  ExpectedUsageRecord,
  UsageAdapterConformanceExpected,
  UsageAdapterConformanceHttp,
  UsageAdapterConformanceOptions,
} from './usage-adapter-conformance-options';
export { CONFORMANCE_CHECKS, type ConformanceCheck } from './conformance-checks';

// The checks, one function each: a list of problems, empty when the adapter passes.
export { checkAdapterDefinition } from './checks/check-adapter-definition';
export { CONFIG_VALUE_MARKER, checkConfigValidation } from './checks/check-config-validation';
export { checkRecordSchema } from './checks/check-record-schema';
export { checkRecordWindow } from './checks/check-record-window';
export { checkTokenSemantics } from './checks/check-token-semantics';
export { checkExpectedRecords } from './checks/check-expected-records';
export { checkIdempotence } from './checks/check-idempotence';
export { checkSecretsStayHidden } from './checks/check-secrets-stay-hidden';
export { checkRetryAfter } from './checks/check-retry-after';
export { checkServerErrorRetry } from './checks/check-server-error-retry';
export { checkDeadline, DEADLINE_RUN_HTTP_SETTINGS, DEADLINE_RUN_LIMIT_MS } from './checks/check-deadline';

// Helpers for an adapter's own tests.
export {
  type FakeServer,
  type FakeServerHandler,
  type FakeServerRequest,
  type FakeServerResponse,
  type RecordedRequest,
  startFakeServer,
} from './start-fake-server';
export {
  createTestContext,
  TEST_HTTP_SETTINGS,
  type TestContext,
  type TestContextOptions,
  type TestHttpSettings,
} from './create-test-context';
export { type CapturedLogLine, type CapturingLogger, createCapturingLogger } from './create-capturing-logger';
export { collectAll } from './collect-all';
export { VERSION } from './version';
