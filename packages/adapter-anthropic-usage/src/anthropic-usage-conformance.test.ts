import { describeUsageAdapterConformance } from '@utt/adapter-testkit';
import messagesPage1 from './__fixtures__/messages-1h-page-1.json' with { type: 'json' };
import messagesPage2 from './__fixtures__/messages-1h-page-2.json' with { type: 'json' };
import { anthropicUsageAdapter } from './anthropic-usage-adapter';

const ADMIN_KEY = 'sk-ant-admin01-CANARY-6d0a2f5c-never-logged';
const CURSOR = 'page_MjAyNi0wOS0wMVQwMjowMDowMFo=';
const GROUP_BY = ['api_key', 'workspace', 'service_tier', 'context_window'];

describeUsageAdapterConformance({
  adapter: anthropicUsageAdapter,
  config: { adminKey: ADMIN_KEY, groupBy: GROUP_BY },
  window: { start: new Date('2026-09-01T00:00:00Z'), end: new Date('2026-09-01T03:00:00Z'), granularity: 'hour' },
  canarySecrets: [ADMIN_KEY],
  http: {
    configForBaseUrl: (baseUrl) => ({ adminKey: ADMIN_KEY, baseUrl, groupBy: GROUP_BY }),
    serve: (request) => {
      if (request.headers['x-api-key'] !== ADMIN_KEY) {
        return { status: 401, body: JSON.stringify({ type: 'error', error: { type: 'authentication_error', message: 'invalid x-api-key' } }) };
      }
      const body = request.url.searchParams.get('page') === CURSOR ? messagesPage2 : messagesPage1;
      return { status: 200, body: JSON.stringify(body) };
    },
  },
  // Anthropic reports uncached input separately; cache writes are the 5-minute plus the 1-hour part.
  expected: {
    response: '__fixtures__/messages-1h-page-1.json',
    records: [
      {
        bucket_start: '2026-09-01T00:00:00Z',
        model: 'claude-sonnet-4-6',
        input_tokens: 15_400,
        cached_read_tokens: 812_000,
        cached_write_tokens: 43_000,
        cached_write_1h_tokens: 2_000,
        output_tokens: 23_100,
      },
    ],
  },
});
