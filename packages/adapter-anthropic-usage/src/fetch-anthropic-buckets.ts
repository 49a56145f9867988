import { followCursorPages, type HttpClient, type QueryValue, type z } from '@utt/core';
import type { AnthropicBucket } from './anthropic-usage-api';
import { describeAnthropicError } from './describe-anthropic-error';

type PageSchema<R> = z.ZodType<{
  data: { starting_at: string; ending_at: string; results: R[] }[];
  has_more: boolean;
  next_page?: string | null | undefined;
}>;

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
  const pages = await followCursorPages({
    url: request.url,
    fetchPage: (cursor) =>
      http.requestJson({
        url: request.url,
        query: { ...request.query, page: cursor },
        headers: request.headers,
        schema: request.schema,
        describeError: describeAnthropicError,
      }),
    describe: (page) => ({ hasMore: page.has_more, nextCursor: page.next_page }),
    fields: { hasMore: 'has_more', nextCursor: 'next_page' },
  });
  return pages.flatMap((page, pageIndex) =>
    page.data.map((bucket, index): AnthropicBucket<R> => ({ ...bucket, path: `page ${pageIndex + 1} data[${index}]` })),
  );
}
