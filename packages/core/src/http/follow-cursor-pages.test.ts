import { describe, expect, it } from 'vitest';
import { ResponseShapeError } from '../errors/response-shape-error';
import { followCursorPages } from './follow-cursor-pages';

type Page = { items: number[]; has_more: boolean; next?: string | null };

function pagesOf(book: Record<string, Page>) {
  const asked: Array<string | undefined> = [];
  return {
    asked,
    fetchPage: async (cursor: string | undefined) => {
      asked.push(cursor);
      const page = book[cursor ?? 'first'];
      if (!page) throw new Error(`no page ${cursor}`);
      return page;
    },
    describe: (page: Page) => ({ hasMore: page.has_more, nextCursor: page.next }),
  };
}

describe('followCursorPages', () => {
  it('follows every cursor to the last page, in order', async () => {
    const book = pagesOf({ first: { items: [1, 2], has_more: true, next: 'b' }, b: { items: [3], has_more: true, next: 'c' }, c: { items: [], has_more: false } });
    const pages = await followCursorPages({ url: 'https://api.example/v1/usage?key=secret', ...book });
    expect(pages.flatMap((page) => page.items)).toEqual([1, 2, 3]);
    expect(book.asked).toEqual([undefined, 'b', 'c']);
  });

  it('fails on "more" without a cursor, naming the page and the endpoint without its query', async () => {
    const book = pagesOf({ first: { items: [1], has_more: true, next: null } });
    const error = await followCursorPages({
      url: 'https://api.example/v1/usage?key=secret',
      ...book,
      fields: { hasMore: 'has_more', nextCursor: 'next_page' },
    }).catch((caught: unknown) => caught);
    expect(ResponseShapeError.isInstance(error)).toBe(true);
    expect((error as Error).message).toBe('unexpected response from https://api.example/v1/usage: page 1 next_page: missing although has_more is true');
  });

  it('fails on a repeated cursor and on too many pages instead of looping', async () => {
    const loop = pagesOf({ first: { items: [], has_more: true, next: 'a' }, a: { items: [], has_more: true, next: 'a' } });
    await expect(followCursorPages({ url: 'https://x.example/', ...loop })).rejects.toThrow(/page 2 next cursor: repeats an earlier cursor/);
    let counter = 0;
    await expect(
      followCursorPages({
        url: 'https://x.example/',
        fetchPage: async () => ({ has_more: true, next: `c${++counter}` }),
        describe: (page) => ({ hasMore: page.has_more, nextCursor: page.next }),
        maxPages: 3,
      }),
    ).rejects.toThrow(/page 3 has more: still true after 3 pages/);
  });
});
