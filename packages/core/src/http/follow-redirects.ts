const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
const MAX_REDIRECTS = 5;
/** The only request headers that may follow a redirect to another origin. */
const PORTABLE_HEADERS = new Set(['accept', 'user-agent', 'content-type']);

/**
 * fetch with redirects followed by hand. fetch itself drops only
 * Authorization and Cookie when a redirect leaves the origin; an API key in a
 * custom header (x-api-key, anthropic's admin key) would travel on to the new
 * host. Here every credential header stays with the origin it was meant for
 * (invariant 13), while signed download links on another host still work.
 */
export async function fetchFollowingRedirects(
  fetchImpl: typeof globalThis.fetch,
  url: URL,
  init: RequestInit & { headers: Record<string, string> },
): Promise<{ response: Response; finalUrl: URL }> {
  let current = url;
  let currentInit = init;
  for (let hop = 0; ; hop++) {
    const response = await fetchImpl(current, { ...currentInit, redirect: 'manual' });
    const location = response.headers.get('location');
    if (!REDIRECT_STATUSES.has(response.status) || location === null) return { response, finalUrl: current };
    if (hop >= MAX_REDIRECTS) throw new TypeError(`more than ${MAX_REDIRECTS} redirects`);
    await response.body?.cancel();
    const next = new URL(location, current);
    const headers =
      next.origin === url.origin
        ? init.headers
        : Object.fromEntries(Object.entries(init.headers).filter(([name]) => PORTABLE_HEADERS.has(name.toLowerCase())));
    const becomesGet = response.status === 303 || ((response.status === 301 || response.status === 302) && currentInit.method === 'POST');
    currentInit = becomesGet ? { ...currentInit, method: 'GET', body: undefined, headers } : { ...currentInit, headers };
    if (becomesGet) delete currentInit.headers['content-type'];
    current = next;
  }
}
