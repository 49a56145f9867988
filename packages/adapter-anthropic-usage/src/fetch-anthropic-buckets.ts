import { endpointOf, type HttpClient, type QueryValue, ResponseShapeError, type z } from '@utt/core';
import type { AnthropicBucket } from './anthropic-usage-api';
import { describeAnthropicError } from './describe-anthropic-error';

type PageSchema<R> = z.ZodType<{
  data: { starting_at: string; ending_at: string; results: R[] }[];
  has_more: boolean;
  next_page?: string | null | undefined;
}>;

/** A safety stop: a provider that keeps answering has_more with new cursors is broken, not busy. */
const MAX_PAGES = 1_000;

/**
 * Every bucket of a paged Anthropic Admin API report: follows `next_page`
 * (sent back as `page`) for as long as `has_more` is true. The key travels
 * only in the x-api-key header.
 */
export async function fetchAnthropicBuckets<R>(
  http: HttpClient,
  request: {
    readonly url: string;
    readonly headers: Readonly<Record<string, string>>;
    readonly query: Readonly<Record<string, QueryValue | readonly QueryValue[] | undefined>>;
    readonly schema: PageSchema<R>;
  },
): Promise<AnthropicBucket<R>[]> {
  const buckets: AnthropicBucket<R>[] = [];
  const seenCursors = new Set<string>();
  let cursor: string | undefined;
  for (let pageNumber = 1; ; pageNumber++) {
    const page = await http.requestJson({
      url: request.url,
      query: { ...request.query, page: cursor },
      headers: request.headers,
      schema: request.schema,
      describeError: describeAnthropicError,
    });
    page.data.forEach((bucket, index) => buckets.push({ ...bucket, path: `page ${pageNumber} data[${index}]` }));
    if (!page.has_more) return buckets;
    const next = page.next_page;
    const problem =
      typeof next !== 'string' || next === ''
        ? 'next_page: missing although has_more is true'
        : seenCursors.has(next)
          ? 'next_page: repeats an earlier cursor (the pages would never end)'
          : pageNumber >= MAX_PAGES
            ? `has_more: still true after ${MAX_PAGES} pages`
            : undefined;
    if (problem) throw new ResponseShapeError({ endpoint: endpointOf(request.url), issues: [`page ${pageNumber} ${problem}`] });
    seenCursors.add(next as string);
    cursor = next as string;
  }
}
