import { readFileSync } from 'node:fs';
import type { FakeServerRequest, FakeServerResponse } from '@utt/adapter-testkit';

export const ORG = 'octo-org';
export const TOKEN = 'ghp_CANARY_copilot_token_never_logged_1234';
/** The signature of every signed link: a credential that must never reach a log or an error. */
export const LINK_SIGNATURE = 'SIGNED-LINK-CANARY-7f3a9c';

const REPORT_FILES: Record<string, readonly string[]> = {
  '2026-09-14': ['organization-1-day-2026-09-14.ndjson', 'organization-1-day-2026-09-14-part-2.ndjson'],
  '2026-09-15': ['organization-1-day-2026-09-15.ndjson'],
};

export function fixture(name: string): string {
  return readFileSync(new URL(`./${name}`, import.meta.url), 'utf8');
}

const json = (body: unknown, status = 200): FakeServerResponse => ({ status, body: JSON.stringify(body) });

/**
 * A fake api.github.com plus a fake report-download host on the same loopback
 * server: report endpoints answer with links to `/downloads/<file>?…&sig=…`
 * on the request's own origin.
 */
export function serveGitHub(request: FakeServerRequest): FakeServerResponse {
  const { pathname, searchParams, origin } = request.url;
  if (pathname.startsWith('/downloads/')) {
    if (searchParams.get('sig') !== LINK_SIGNATURE) return { status: 403, body: '<Error>AuthenticationFailed</Error>' };
    return { status: 200, headers: { 'content-type': 'application/x-ndjson' }, body: fixture(pathname.slice('/downloads/'.length)) };
  }
  if (request.headers.authorization !== `Bearer ${TOKEN}`) return json({ message: 'Bad credentials' }, 401);
  if (pathname === `/orgs/${ORG}/copilot/metrics/reports/organization-1-day`) {
    const day = searchParams.get('day') ?? '';
    const files = REPORT_FILES[day];
    if (!files) return { status: 204, body: '' };
    return json({
      download_links: files.map((file) => `${origin}/downloads/${file}?sv=2026-03-10&se=2026-09-16T06%3A10%3A00Z&sig=${LINK_SIGNATURE}`),
      report_day: day,
    });
  }
  if (pathname === `/orgs/${ORG}/copilot/metrics/reports/organization-28-day/latest`) {
    return json({ download_links: [`${origin}/downloads/none.ndjson?sig=${LINK_SIGNATURE}`], report_start_day: '2026-08-19', report_end_day: '2026-09-15' });
  }
  const billing = /^\/organizations\/octo-org\/settings\/billing\/(premium_request|ai_credit)\/usage$/.exec(pathname);
  if (billing) {
    const day = `${searchParams.get('year')}-${searchParams.get('month')?.padStart(2, '0')}-${searchParams.get('day')?.padStart(2, '0')}`;
    const name = `${billing[1] === 'premium_request' ? 'premium-request' : 'ai-credit'}-usage-${day}.json`;
    try {
      return { status: 200, body: fixture(name) };
    } catch {
      return json({ timePeriod: { year: 2026, month: 9, day: Number(searchParams.get('day')) }, usageItems: [] });
    }
  }
  return json({ message: 'Not Found' }, 404);
}
