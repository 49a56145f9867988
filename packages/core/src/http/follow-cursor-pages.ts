import { ResponseShapeError } from '../errors/response-shape-error';
import { endpointOf } from './endpoint-of';

/** A safety stop: a provider that keeps answering "more" with new cursors is broken, not busy. */
const DEFAULT_MAX_PAGES = 1_000;

export type CursorPage = {
  /** Whether the provider says another page follows. */
  readonly hasMore: boolean;
  /** The cursor to send for the next page. */
  readonly nextCursor: string | null | undefined;
};

/**
 * Follows a cursor-paged API to its last page: `fetchPage(undefined)` first,
 * then the cursor each page hands out for as long as it says there is more.
 * A page that says "more" without a cursor, a cursor seen before, or more
 * than `maxPages` pages fail with a ResponseShapeError naming the page,
 * instead of looping or silently stopping short.
 */
export async function followCursorPages<TPage>(options: {
  readonly url: string;
  readonly fetchPage: (cursor: string | undefined, pageNumber: number) => Promise<TPage>;
  readonly describe: (page: TPage) => CursorPage;
  /** The provider's names for the two fields, so an error names what it saw (`has_more`, `next_page`). */
  readonly fields?: { readonly hasMore: string; readonly nextCursor: string };
  readonly maxPages?: number;
}): Promise<TPage[]> {
  const maxPages = options.maxPages ?? DEFAULT_MAX_PAGES;
  const { hasMore: moreField, nextCursor: cursorField } = options.fields ?? { hasMore: 'has more', nextCursor: 'next cursor' };
  const pages: TPage[] = [];
  const seenCursors = new Set<string>();
  let cursor: string | undefined;
  for (let pageNumber = 1; ; pageNumber++) {
    const page = await options.fetchPage(cursor, pageNumber);
    pages.push(page);
    const { hasMore, nextCursor } = options.describe(page);
    if (!hasMore) return pages;
    const problem =
      typeof nextCursor !== 'string' || nextCursor === ''
        ? `${cursorField}: missing although ${moreField} is true`
        : seenCursors.has(nextCursor)
          ? `${cursorField}: repeats an earlier cursor (the pages would never end)`
          : pageNumber >= maxPages
            ? `${moreField}: still true after ${maxPages} pages`
            : undefined;
    if (problem) throw new ResponseShapeError({ endpoint: endpointOf(options.url), issues: [`page ${pageNumber} ${problem}`] });
    seenCursors.add(nextCursor as string);
    cursor = nextCursor as string;
  }
}
