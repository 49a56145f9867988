import { describeUsageAdapterConformance } from '@utt/adapter-testkit';
import { LINK_SIGNATURE, ORG, serveGitHub, TOKEN } from './__fixtures__/fake-github';
import { copilotAdapter } from './copilot-adapter';

describeUsageAdapterConformance({
  adapter: copilotAdapter,
  config: { org: ORG, token: TOKEN },
  window: { start: new Date('2026-09-14T00:00:00Z'), end: new Date('2026-09-16T00:00:00Z'), granularity: 'day' },
  canarySecrets: [TOKEN, LINK_SIGNATURE],
  http: {
    configForBaseUrl: (baseUrl) => ({ org: ORG, token: TOKEN, baseUrl }),
    serve: serveGitHub,
  },
});
