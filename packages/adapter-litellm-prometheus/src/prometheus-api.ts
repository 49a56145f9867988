import { AdapterHttpError, endpointOf, type HttpClient, ResponseShapeError, z } from '@utt/core';
import { PrometheusQueryError } from './prometheus-query-error';

/** One series of a range result; sample values are strings so NaN and Inf survive JSON. */
export type PrometheusSeries = {
  readonly metric: Readonly<Record<string, string>>;
  readonly values: readonly (readonly [number, string])[];
};

const seriesSchema = z.object({
  metric: z.record(z.string(), z.string()),
  values: z.array(z.tuple([z.number(), z.string()])),
});

/** Tolerant of fields Prometheus adds (warnings, infos, stats). */
const rangeResponseSchema = z.object({
  status: z.string(),
  error: z.string().optional(),
  errorType: z.string().optional(),
  data: z.object({ resultType: z.string(), result: z.array(z.unknown()) }).optional(),
});

export type RangeQuery = {
  readonly baseUrl: string;
  readonly query: string;
  /** Unix seconds. */
  readonly start: number;
  readonly end: number;
  readonly stepSeconds: number;
  readonly headers: Readonly<Record<string, string>>;
};

/**
 * GET /api/v1/query_range through core's HTTP client (deadline, retries on
 * 429/5xx). Every failure becomes a PrometheusQueryError naming the PromQL.
 */
export async function queryRange(http: HttpClient, request: RangeQuery): Promise<PrometheusSeries[]> {
  const url = `${request.baseUrl.replace(/\/+$/, '')}/api/v1/query_range`;
  const endpoint = endpointOf(new URL(url));
  const fail = (reason: string, statusCode?: number, cause?: unknown) =>
    new PrometheusQueryError({ query: request.query, endpoint, reason, statusCode, cause });
  let text: string;
  try {
    const response = await http.requestText({
      url,
      query: { query: request.query, start: request.start, end: request.end, step: `${request.stepSeconds}s` },
      headers: request.headers,
      describeError: (body) => describePrometheusError(body),
    });
    text = response.text;
  } catch (error) {
    if (AdapterHttpError.isInstance(error)) throw fail(stripEndpoint(error.message, endpoint), error.statusCode, error);
    throw error;
  }
  let body: z.infer<typeof rangeResponseSchema>;
  try {
    body = rangeResponseSchema.parse(JSON.parse(text));
  } catch (error) {
    throw fail('the answer is not a Prometheus API response (is prometheusUrl pointing at Prometheus?)', undefined, error);
  }
  if (body.status !== 'success') throw fail(`${body.errorType ?? 'error'}: ${body.error ?? 'no error message'}`);
  if (!body.data || body.data.resultType !== 'matrix') throw fail(`expected a matrix result, got ${body.data?.resultType ?? 'no data'}`);
  const series: PrometheusSeries[] = [];
  for (const [index, item] of body.data.result.entries()) {
    const parsed = seriesSchema.safeParse(item);
    if (!parsed.success) throw new ResponseShapeError({ endpoint, issues: [`data.result[${index}]: expected { metric, values: [[time, "value"]…] }`] });
    series.push(parsed.data as PrometheusSeries);
  }
  return series;
}

function describePrometheusError(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const record = body as Record<string, unknown>;
  if (typeof record.error !== 'string') return undefined;
  return typeof record.errorType === 'string' ? `${record.errorType}: ${record.error}` : record.error;
}

/** core's message starts with "GET <endpoint> …"; the endpoint is already in ours. */
function stripEndpoint(message: string, endpoint: string): string {
  return message.replace(`GET ${endpoint} `, '');
}
