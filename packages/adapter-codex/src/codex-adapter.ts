import path from 'node:path';
import { collectAgentLogs } from '@utt/agent-logs';
import { defineAdapter } from '@utt/core';
import { codexConfigSchema } from './codex-config';
import { createCodexFormat } from './codex-format';
import { codexRoots } from './codex-paths';
import { collectCodexQuota } from './codex-quota';

/**
 * OpenAI Codex CLI usage from its local rollout files: hourly rows per model,
 * project and machine, from the deltas of the cumulative token totals, read
 * incrementally through the worker's durable state.
 */
export const codexAdapter = defineAdapter({
  specificationVersion: 'v1',
  id: 'codex',
  sourceSystem: 'codex_cli',
  configSchema: codexConfigSchema,
  capabilities: {
    granularities: ['hour'],
    // Codex reports cache reads; it does not report cache writes (they stay NULL).
    cacheTokens: 'read',
    costSource: 'none',
    measurementBasis: 'exact',
    maxBackfillDays: null,
    windowed: false,
    // Cursors of every file and the de-duplication ledger of every hour: a cycle reads a little of it.
    stateLoading: 'on-demand',
    // Cost is left to the worker, which then loads no price registry for a cycle that finds nothing new.
    usesPricer: false,
  },
  async check(context) {
    const roots = context.config.paths?.map((root) => path.resolve(context.configDirectory ?? '.', root)) ?? codexRoots(context.env);
    return { ok: true, detail: `reads ${roots.join(', ')}` };
  },
  async collect(_window, context) {
    const { records } = await collectAgentLogs(context, {
      agent: 'codex',
      provider: 'openai',
      format: createCodexFormat(),
      defaultRoots: codexRoots,
    });
    return records;
  },
  collectQuota: collectCodexQuota,
});
