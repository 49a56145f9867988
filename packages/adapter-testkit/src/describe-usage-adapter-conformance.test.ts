// The kit run as a user runs it: every check must pass for well-behaved adapters.
import { exampleConformanceOptions } from './__fixtures__/example-usage-adapter';
import { streamingUsageAdapter } from './__fixtures__/streaming-usage-adapter';
import { describeUsageAdapterConformance } from './describe-usage-adapter-conformance';

describeUsageAdapterConformance(exampleConformanceOptions());

describeUsageAdapterConformance({
  adapter: streamingUsageAdapter,
  config: { tokensPerHour: 1200 },
  window: { start: new Date('2026-02-10T00:00:00Z'), end: new Date('2026-02-10T06:00:00Z'), granularity: 'hour' },
});
