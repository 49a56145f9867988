import { describeUsageAdapterConformance } from '@utt/adapter-testkit';
import * as entry from './index';
import page from './__fixtures__/usage-page.json' with { type: 'json' };

const API_KEY = 'sk-acme-CANARY-never-logged';

describeUsageAdapterConformance({
  adapter: entry.default,
  // The module the worker imports: its default export must be the adapter.
  entry,
  config: { apiKey: API_KEY },
  window: { start: new Date('2026-10-01T00:00:00Z'), end: new Date('2026-10-01T03:00:00Z'), granularity: 'hour' },
  canarySecrets: [API_KEY],
  http: {
    // The kit starts a real HTTP server on 127.0.0.1 and points the adapter at it.
    configForBaseUrl: (baseUrl) => ({ apiKey: API_KEY, baseUrl }),
    serve: (request) =>
      request.headers['authorization'] === `Bearer ${API_KEY}`
        ? { status: 200, body: JSON.stringify(page) }
        : { status: 401, body: '{"error":"bad key"}' },
  },
  // One real response and the records it must become, worked out from Acme's
  // docs: prompt_tokens includes cached_tokens, so input is the difference.
  expected: {
    response: 'src/__fixtures__/usage-page.json',
    records: [
      { bucket_start: '2026-10-01T00:00:00Z', model: 'acme-large', input_tokens: 1000, cached_read_tokens: 200, output_tokens: 300 },
      { bucket_start: '2026-10-01T01:00:00Z', model: 'acme-small', input_tokens: 500, cached_read_tokens: null, output_tokens: 80 },
    ],
  },
});
