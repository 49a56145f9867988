import { followCursorPages, type HttpClient, type QueryValue, type z } from '@utt/core';
import type { OpenaiBucket } from './openai-usage-api';
import { describeOpenaiError } from './describe-openai-error';

type PageSchema<R> = z.ZodType<{
  data: { start_time: number; end_time: number; results: R[] }[];
  has_more: boolean;
  next_page?: string | null | undefined;
}>;

/**
 * Every bucket of a paged OpenAI endpoint: follows `next_page` (sent back as
 * `page`) for as long as `has_more` is true. The key travels only in the
 * Authorization header.
 */
export async function fetchOpenaiBuckets<R>(
  http: HttpClient,
  request: {
    readonly url: string;
    readonly adminKey: string;
    readonly query: Readonly<Record<string, QueryValue | readonly QueryValue[] | undefined>>;
    readonly schema: PageSchema<R>;
  },
): Promise<OpenaiBucket<R>[]> {
  const pages = await followCursorPages({
    url: request.url,
    fetchPage: (cursor) =>
      http.requestJson({
        url: request.url,
        query: { ...request.query, page: cursor },
        headers: { authorization: `Bearer ${request.adminKey}` },
        schema: request.schema,
        describeError: describeOpenaiError,
      }),
    describe: (page) => ({ hasMore: page.has_more, nextCursor: page.next_page }),
    fields: { hasMore: 'has_more', nextCursor: 'next_page' },
  });
  return pages.flatMap((page, pageIndex) =>
    page.data.map((bucket, index): OpenaiBucket<R> => ({ ...bucket, path: `page ${pageIndex + 1} data[${index}]` })),
  );
}

