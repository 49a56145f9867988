import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, Registry } from 'prom-client';

const LABEL_NAMES = ['model', 'api_provider', 'hashed_api_key', 'api_key_alias', 'team', 'team_alias', 'user', 'end_user'] as const;
export type ExporterLabels = Record<(typeof LABEL_NAMES)[number], string>;

export type ExporterUsage = {
  readonly promptTokens: number;
  readonly cachedTokens?: number;
  readonly outputTokens: number;
  readonly reasoningTokens?: number;
  readonly spend: number;
};

/**
 * A stand-in for LiteLLM's /metrics: prom-client counters under LiteLLM's
 * exposed names and labels, incremented the way the proxy does per request
 * (detail counters only when non-zero). `restart()` drops every series, as a
 * new proxy process would.
 */
export async function startLitellmExporter() {
  const registry = new Registry();
  const counter = (name: string) => new Counter({ name, help: `LiteLLM ${name}`, labelNames: LABEL_NAMES, registers: [registry] });
  const counters = {
    input: counter('litellm_input_tokens_metric_total'),
    output: counter('litellm_output_tokens_metric_total'),
    cacheRead: counter('litellm_input_cached_tokens_metric_total'),
    reasoning: counter('litellm_output_reasoning_tokens_metric_total'),
    requests: counter('litellm_requests_metric_total'),
    spend: counter('litellm_spend_metric_total'),
  };
  let scrapes = 0;
  const server = createServer(async (_request, response) => {
    scrapes++;
    response.setHeader('content-type', registry.contentType);
    response.end(await registry.metrics());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    target: `127.0.0.1:${port}`,
    get scrapes() {
      return scrapes;
    },
    record(labels: ExporterLabels, usage: ExporterUsage) {
      counters.input.inc(labels, usage.promptTokens);
      counters.output.inc(labels, usage.outputTokens);
      if (usage.cachedTokens) counters.cacheRead.inc(labels, usage.cachedTokens);
      if (usage.reasoningTokens) counters.reasoning.inc(labels, usage.reasoningTokens);
      counters.requests.inc(labels, 1);
      counters.spend.inc(labels, usage.spend);
    },
    restart() {
      registry.resetMetrics();
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
