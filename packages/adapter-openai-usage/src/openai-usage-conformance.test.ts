import { describeUsageAdapterConformance } from '@utt/adapter-testkit';
import completionsPage1 from './__fixtures__/completions-1h-page-1.json' with { type: 'json' };
import completionsPage2 from './__fixtures__/completions-1h-page-2.json' with { type: 'json' };
import embeddings from './__fixtures__/embeddings-1h.json' with { type: 'json' };
import { openaiUsageAdapter } from './openai-usage-adapter';

const ADMIN_KEY = 'sk-admin-CANARY-3b8d1e0f-never-logged';
const CURSOR = 'page_AAAAAGdGxdEiJdKOAAAAAGcqsYA=';

describeUsageAdapterConformance({
  adapter: openaiUsageAdapter,
  config: { adminKey: ADMIN_KEY, groupBy: ['project', 'batch', 'service_tier'] },
  window: { start: new Date('2026-09-01T00:00:00Z'), end: new Date('2026-09-01T03:00:00Z'), granularity: 'hour' },
  canarySecrets: [ADMIN_KEY],
  http: {
    configForBaseUrl: (baseUrl) => ({ adminKey: ADMIN_KEY, baseUrl: `${baseUrl}/v1`, groupBy: ['project', 'batch', 'service_tier'] }),
    serve: (request) => {
      if (request.headers.authorization !== `Bearer ${ADMIN_KEY}`) {
        return { status: 401, body: JSON.stringify({ error: { message: 'Incorrect API key provided' } }) };
      }
      const body = request.url.pathname.endsWith('/embeddings')
        ? embeddings
        : request.url.searchParams.get('page') === CURSOR
          ? completionsPage2
          : completionsPage1;
      return { status: 200, body: JSON.stringify(body) };
    },
  },
  // OpenAI's input_tokens includes cached reads and cache writes: input is what is left.
  expected: {
    response: '__fixtures__/completions-1h-page-1.json',
    records: [
      {
        bucket_start: '2026-09-01T00:00:00Z',
        model: 'gpt-5.2-2026-01-15',
        input_tokens: 58_000,
        cached_read_tokens: 120_000,
        cached_write_tokens: 4_000,
        output_tokens: 9_100,
        requests: 42,
      },
    ],
  },
});
