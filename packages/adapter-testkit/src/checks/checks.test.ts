// Each check must be able to fail: a deliberately broken copy of the example adapter trips it.
import { describe, expect, it } from 'vitest';
import { EXAMPLE_API_KEY, exampleConformanceOptions } from '../__fixtures__/example-usage-adapter';
import { checkAdapterDefinition } from './check-adapter-definition';
import { checkConfigValidation } from './check-config-validation';
import { checkDeadline, DEADLINE_RUN_LIMIT_MS } from './check-deadline';
import { checkExpectedRecords } from './check-expected-records';
import { checkIdempotence } from './check-idempotence';
import { checkRecordSchema } from './check-record-schema';
import { checkRecordWindow } from './check-record-window';
import { checkRetryAfter } from './check-retry-after';
import { checkSecretsStayHidden } from './check-secrets-stay-hidden';
import { checkServerErrorRetry } from './check-server-error-retry';
import { checkTokenSemantics } from './check-token-semantics';

const timeout = { timeout: 20_000 };

describe('check functions on broken adapters', () => {
  it('definition: a non-kebab-case id', async () => {
    expect(await checkAdapterDefinition(exampleConformanceOptions({ badId: true }))).toEqual(['id must be kebab-case']);
  });

  it('definition: a wrong version and an unknown granularity', async () => {
    const { adapter } = exampleConformanceOptions();
    const broken = { ...adapter, specificationVersion: 'v0', capabilities: { ...adapter.capabilities, granularities: ['week'] } };
    const problems = await checkAdapterDefinition({ adapter: broken as never });
    expect(problems).toHaveLength(2);
    expect(problems[0]).toBe("specificationVersion is v0, expected 'v1'");
    expect(problems[1]).toMatch(/^capabilities\.granularities.*week/);
  });

  it('definition: an entry module without a default export', async () => {
    const options = exampleConformanceOptions();
    expect(await checkAdapterDefinition({ ...options, entry: { exampleAdapter: options.adapter } })).toEqual([
      'entry: the module has no default export; the worker loads `export default` (add `export { myAdapter as default }` to index.ts)',
    ]);
    expect(await checkAdapterDefinition({ ...options, entry: { default: options.adapter } })).toEqual([]);
  });

  it('expected: an adapter that counts cached tokens in input_tokens', timeout, async () => {
    expect(await checkExpectedRecords(exampleConformanceOptions({ cacheInInput: true }))).toEqual([
      'serveExampleUsage, 2026-03-01 and 02: alpha at 2026-03-02T00:00:00.000Z: input_tokens is 111, expected 101 (it equals expected input plus the cache columns: input_tokens must exclude cache reads and writes; subtract them when the provider counts them in its prompt total)',
    ]);
  });

  it('expected: required when the adapter reports cache tokens', async () => {
    const { expected: _expected, ...options } = exampleConformanceOptions();
    expect(await checkExpectedRecords(options)).toEqual([
      expect.stringMatching(/^state one real provider response and the records it must become \(option `expected: \{ response, records \}`\)/),
    ]);
  });

  it('config: a schema that accepts anything', async () => {
    const problems = await checkConfigValidation(exampleConformanceOptions({ looseConfig: true }));
    expect(problems).toContainEqual(expect.stringMatching(/^no wrong-typed value was rejected/));
    expect(problems).toContainEqual(expect.stringMatching(/^an unknown key .* is accepted/));
  });

  it('config: issues that repeat the refused value', async () => {
    expect(await checkConfigValidation(exampleConformanceOptions({ echoingConfigErrors: true }))).toEqual([
      'a wrong-typed baseUrl: the issue at baseUrl repeats a configured value',
    ]);
  });

  it('config: a given config that does not validate', async () => {
    const options = { ...exampleConformanceOptions(), config: { baseUrl: 'not a url' } };
    expect(await checkConfigValidation(options)).toContainEqual(expect.stringMatching(/^the given config is rejected: baseUrl: /));
  });

  it('records: a record that breaks the schema', timeout, async () => {
    expect(await checkRecordSchema(exampleConformanceOptions({ invalidRecord: true }))).toEqual([
      'invalid usage record (record 6): input_tokens: must not be negative',
    ]);
  });

  it('records: a collect that returns nothing', timeout, async () => {
    const options = exampleConformanceOptions({ swallowsErrors: true });
    const silent = { ...options, http: { ...options.http!, serve: () => ({ status: 401, body: '{}' }) } };
    expect(await checkRecordSchema(silent)).toEqual([expect.stringMatching(/^collect\(\) returned no records/)]);
  });

  it('window: a record before the window', timeout, async () => {
    expect(await checkRecordWindow(exampleConformanceOptions({ recordBeforeWindow: true }))).toEqual([
      'record 6: bucket_start 2026-02-28T00:00:00.000Z is outside the window [2026-03-01T00:00:00.000Z, 2026-03-04T00:00:00.000Z)',
    ]);
  });

  it('window: an unaligned window in the options', async () => {
    const options = exampleConformanceOptions();
    const unaligned = { ...options, window: { ...options.window, start: new Date('2026-03-01T05:00:00Z') } };
    expect(await checkRecordWindow(unaligned)).toEqual(['options.window is not aligned to day buckets (the worker always aligns it)']);
  });

  it('tokens: 0 where the source reports no cache writes', timeout, async () => {
    const problems = await checkTokenSemantics(exampleConformanceOptions({ zeroForUnreportedCacheWrites: true }));
    expect(problems).toHaveLength(6);
    expect(problems[0]).toBe("record 0: cached_write_tokens is 0, expected null (capabilities.cacheTokens is 'read')");
  });

  it('idempotence: records that change between two runs', timeout, async () => {
    expect(await checkIdempotence(exampleConformanceOptions({ drifting: true }))).toEqual([
      expect.stringMatching(/^a second collect of the same window differs: record .*"input_tokens":8,.* became .*"input_tokens":9,/),
    ]);
  });

  it('idempotence: two records with one conflict key', timeout, async () => {
    expect(await checkIdempotence(exampleConformanceOptions({ duplicateKeys: true }))).toEqual([
      expect.stringMatching(/^records 0 and 6 have the same conflict key/),
    ]);
  });

  it('secrets: a key in the thrown error', timeout, async () => {
    expect(await checkSecretsStayHidden(exampleConformanceOptions({ keyInErrors: true }))).toEqual([
      '401 run: canarySecrets[0] appears in the thrown error',
    ]);
  });

  it("secrets: the provider's echo of a refused key carried into the error", timeout, async () => {
    expect(await checkSecretsStayHidden(exampleConformanceOptions({ rawFetch: true, responseBodyInErrors: true }))).toEqual([
      '401 run: canarySecrets[0] appears in the thrown error',
    ]);
  });

  it('secrets: a key in a log line', timeout, async () => {
    expect(await checkSecretsStayHidden(exampleConformanceOptions({ keyInLogs: true }))).toEqual([
      'plain run: canarySecrets[0] appears in a log line',
      '401 run: canarySecrets[0] appears in a log line',
    ]);
  });

  it('secrets: a 401 swallowed into an empty, successful collect', timeout, async () => {
    expect(await checkSecretsStayHidden(exampleConformanceOptions({ swallowsErrors: true }))).toEqual([
      '401 run: collect() succeeded although every request was answered 401',
    ]);
  });

  it('secrets: a canary too short to prove anything', async () => {
    const options = { ...exampleConformanceOptions(), canarySecrets: ['abc'] };
    expect(await checkSecretsStayHidden(options)).toEqual([expect.stringMatching(/^canarySecrets\[0\] is shorter than 8/)]);
  });

  it('secrets: problems never print the canary they caught', timeout, async () => {
    const options = exampleConformanceOptions({ keyInErrors: true });
    const problems = await checkRecordSchema({ ...options, http: { ...options.http!, serve: () => ({ status: 401, body: '{}' }) } });
    expect(problems).toEqual([expect.stringContaining('usage request with key [redacted] failed')]);
    expect(problems.join('\n')).not.toContain(EXAMPLE_API_KEY);
  });

  it('http: no retry after a 429 or a 500 (raw fetch)', timeout, async () => {
    const options = exampleConformanceOptions({ rawFetch: true });
    expect(await checkRetryAfter(options)).toEqual([expect.stringMatching(/^after a 429 with Retry-After: 1, collect\(\) failed: Error: usage request answered 429/)]);
    expect(await checkServerErrorRetry(options)).toEqual([expect.stringMatching(/^after one 500, collect\(\) failed: Error: usage request answered 500/)]);
  });

  it('http: a call without a deadline hangs, and the check gives up in time', timeout, async () => {
    const startedAt = performance.now();
    const problems = await checkDeadline(exampleConformanceOptions({ rawFetch: true }));
    expect(problems).toEqual([expect.stringMatching(/^collect\(\) did not settle within \d+ ms against a server that never answers/)]);
    expect(performance.now() - startedAt).toBeLessThan(DEADLINE_RUN_LIMIT_MS + 1_000);
  });

  it('http: checks need options.http', async () => {
    const { http: _http, ...options } = exampleConformanceOptions();
    expect(await checkRetryAfter(options)).toEqual(['this check needs options.http']);
  });
});

describe('check functions on the example adapter', () => {
  it('the 429 run waits for Retry-After and the 500 run retries', timeout, async () => {
    const options = exampleConformanceOptions();
    expect(await checkRetryAfter(options)).toEqual([]);
    expect(await checkServerErrorRetry(options)).toEqual([]);
  });
});

describe('check functions on something that is not an adapter', () => {
  it('report the shape problem instead of crashing', timeout, async () => {
    const options = { ...exampleConformanceOptions(), adapter: { id: 'x' } as never };
    for (const check of [checkRecordSchema, checkRecordWindow, checkTokenSemantics, checkIdempotence, checkRetryAfter]) {
      expect(await check(options)).toEqual([expect.stringMatching(/^not a v1 adapter \(see the definition check\): specificationVersion/)]);
    }
    expect(await checkConfigValidation(options)).toEqual(['configSchema is not a Standard Schema']);
  });
});
