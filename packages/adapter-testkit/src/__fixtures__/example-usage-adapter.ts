// A tiny HTTP adapter for the kit's own tests, with switches that break it on purpose.
import { addBuckets, bucketStartsBetween, defineAdapter, requireSecret, type UsageRecordInput, z } from '@utt/core';
import type { FakeServerRequest, FakeServerResponse } from '../start-fake-server';
import type { UsageAdapterConformanceOptions } from '../usage-adapter-conformance-options';

export const EXAMPLE_API_KEY = 'sk-example-CANARY-7d1e0b9a';

/** Each switch breaks one rule a conformance check guards. */
export type ExampleAdapterDefects = {
  readonly badId?: boolean;
  readonly looseConfig?: boolean;
  readonly echoingConfigErrors?: boolean;
  readonly invalidRecord?: boolean;
  readonly recordBeforeWindow?: boolean;
  readonly zeroForUnreportedCacheWrites?: boolean;
  readonly drifting?: boolean;
  readonly duplicateKeys?: boolean;
  readonly keyInErrors?: boolean;
  readonly keyInLogs?: boolean;
  readonly swallowsErrors?: boolean;
  /** Calls context.fetch directly: no deadline, no retries, signal ignored. */
  readonly rawFetch?: boolean;
  /** With rawFetch: copies the error response body into the thrown error. */
  readonly responseBodyInErrors?: boolean;
  /** Counts cached tokens in input_tokens too, as an adapter that copies a cache-inclusive prompt total does. */
  readonly cacheInInput?: boolean;
};

const exampleConfigSchema = z.strictObject({
  baseUrl: z.url(),
  apiKeyEnv: z.string().default('EXAMPLE_API_KEY'),
  project: z.string().default(''),
});

const loosePageSchema = z.object({
  data: z.array(z.object({ day: z.string(), model: z.string(), input: z.number(), output: z.number(), cached: z.number().nullish() })),
  next_page: z.string().nullish(),
});

export function createExampleUsageAdapter(defects: ExampleAdapterDefects = {}) {
  let calls = 0;
  const configSchema = defects.looseConfig
    ? z.any()
    : defects.echoingConfigErrors
      ? z.strictObject({
          baseUrl: z.string({ error: (issue) => `got ${JSON.stringify(issue.input)}` }),
          apiKeyEnv: z.string().default('EXAMPLE_API_KEY'),
          project: z.string().default(''),
        })
      : exampleConfigSchema;
  return defineAdapter({
    specificationVersion: 'v1',
    id: defects.badId ? 'Example_Usage' : 'example-usage',
    sourceSystem: 'example_api',
    configSchema,
    capabilities: {
      granularities: ['day'],
      cacheTokens: 'read',
      costSource: 'none',
      measurementBasis: 'provider_aggregate',
      maxBackfillDays: 30,
      windowed: true,
    },
    async collect(window, context) {
      calls++;
      const config = context.config as z.output<typeof exampleConfigSchema>;
      const key = requireSecret(context.env[config.apiKeyEnv], config.apiKeyEnv);
      if (defects.keyInLogs) context.logger.info('collecting', { key });
      const records: UsageRecordInput[] = [];
      let page: string | undefined;
      try {
        do {
          const body = await fetchPage(context, config.baseUrl, key, window, page, defects);
          for (const bucket of body.data) {
            records.push({
              granularity: 'day',
              bucket_start: `${bucket.day}T00:00:00Z`,
              provider: 'example',
              model: bucket.model,
              account: config.project,
              input_tokens: (defects.drifting ? bucket.input + calls : bucket.input) + (defects.cacheInInput ? (bucket.cached ?? 0) : 0),
              output_tokens: bucket.output,
              cached_read_tokens: bucket.cached ?? null,
              cached_write_tokens: defects.zeroForUnreportedCacheWrites ? 0 : null,
              measurement_basis: 'provider_aggregate',
            });
          }
          page = body.next_page ?? undefined;
        } while (page);
      } catch (error) {
        if (defects.swallowsErrors) return [];
        if (defects.keyInErrors) throw new Error(`usage request with key ${key} failed`, { cause: error });
        throw error;
      }
      if (defects.invalidRecord) records.push({ granularity: 'day', bucket_start: window.start, provider: 'example', model: 'x', input_tokens: -1, measurement_basis: 'exact' });
      if (defects.recordBeforeWindow) {
        records.push({ granularity: 'day', bucket_start: addBuckets(window.start, 'day', -1), provider: 'example', model: 'late', measurement_basis: 'exact' });
      }
      if (defects.duplicateKeys && records[0]) records.push({ ...records[0] });
      return records;
    },
  });
}

async function fetchPage(
  context: { http: import('@utt/core').HttpClient; fetch: typeof fetch },
  baseUrl: string,
  key: string,
  window: { start: Date; end: Date },
  page: string | undefined,
  defects: ExampleAdapterDefects,
): Promise<z.output<typeof loosePageSchema>> {
  const query = { start: window.start.toISOString(), end: window.end.toISOString(), ...(page ? { page } : {}) };
  const headers = { authorization: `Bearer ${key}` };
  if (defects.rawFetch) {
    const url = new URL(`${baseUrl}/v1/usage`);
    for (const [name, value] of Object.entries(query)) url.searchParams.set(name, value);
    const response = await context.fetch(url, { headers });
    if (!response.ok) {
      const detail = defects.responseBodyInErrors ? `: ${await response.text()}` : '';
      throw new Error(`usage request answered ${response.status}${detail}`);
    }
    return loosePageSchema.parse(await response.json());
  }
  return context.http.requestJson({ url: `${baseUrl}/v1/usage`, query, headers, schema: loosePageSchema });
}

/** The fake provider behind the example adapter: two models a day, split over two pages. */
export function serveExampleUsage(request: FakeServerRequest): FakeServerResponse {
  if (request.headers.authorization !== `Bearer ${EXAMPLE_API_KEY}`) {
    return { status: 401, body: JSON.stringify({ error: { message: 'bad key' } }) };
  }
  if (request.url.pathname !== '/v1/usage') return { status: 404, body: '{}' };
  const start = new Date(request.url.searchParams.get('start') ?? '');
  const end = new Date(request.url.searchParams.get('end') ?? '');
  const days = bucketStartsBetween(start, end, 'day');
  const data = days.flatMap((day, index) => [
    { day: day.toISOString().slice(0, 10), model: 'alpha', input: 100 + index, output: 50, cached: index === 0 ? null : 10 },
    { day: day.toISOString().slice(0, 10), model: 'beta', input: 7, output: 3, cached: 0 },
  ]);
  const second = request.url.searchParams.get('page') === '2';
  const half = Math.ceil(data.length / 2);
  return {
    status: 200,
    body: JSON.stringify(second ? { data: data.slice(half) } : { data: data.slice(0, half), next_page: '2', extra_field: true }),
  };
}

/** Conformance options for the example adapter (or a broken copy of it). */
export function exampleConformanceOptions(defects: ExampleAdapterDefects = {}): UsageAdapterConformanceOptions {
  return {
    adapter: createExampleUsageAdapter(defects),
    config: { baseUrl: 'https://usage.example.test', apiKeyEnv: 'EXAMPLE_API_KEY' },
    env: { EXAMPLE_API_KEY },
    window: { start: new Date('2026-03-01T00:00:00Z'), end: new Date('2026-03-04T00:00:00Z'), granularity: 'day' },
    canarySecrets: [EXAMPLE_API_KEY],
    http: { configForBaseUrl: (baseUrl) => ({ baseUrl, apiKeyEnv: 'EXAMPLE_API_KEY' }), serve: serveExampleUsage },
    expected: {
      response: 'serveExampleUsage, 2026-03-01 and 02',
      records: [
        { bucket_start: '2026-03-01T00:00:00Z', model: 'alpha', input_tokens: 100, cached_read_tokens: null, output_tokens: 50 },
        { bucket_start: '2026-03-02T00:00:00Z', model: 'alpha', input_tokens: 101, cached_read_tokens: 10, output_tokens: 50 },
        { bucket_start: '2026-03-01T00:00:00Z', model: 'beta', input_tokens: 7, cached_read_tokens: 0, output_tokens: 3 },
      ],
    },
  };
}
