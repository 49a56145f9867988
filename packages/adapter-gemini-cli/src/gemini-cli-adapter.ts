import path from 'node:path';
import { collectAgentLogs } from '@utt/agent-logs';
import { defineAdapter } from '@utt/core';
import { geminiCliConfigSchema } from './gemini-cli-config';
import { createGeminiCliFormat } from './gemini-cli-format';
import { geminiCliRoots } from './gemini-cli-paths';

/**
 * Gemini CLI usage from its local session recordings: hourly rows per model,
 * project and machine, one count per message however often the recording
 * is rewritten.
 */
export const geminiCliAdapter = defineAdapter({
  specificationVersion: 'v1',
  id: 'gemini-cli',
  sourceSystem: 'gemini_cli',
  configSchema: geminiCliConfigSchema,
  capabilities: {
    granularities: ['hour'],
    // Gemini reports cached (read) tokens; cache writes are not in the recording.
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
    const roots = context.config.paths?.map((root) => path.resolve(context.configDirectory ?? '.', root)) ?? geminiCliRoots(context.env);
    return { ok: true, detail: `reads ${roots.join(', ')}` };
  },
  async collect(_window, context) {
    const { records } = await collectAgentLogs(context, {
      agent: 'gemini-cli',
      provider: 'google',
      format: createGeminiCliFormat(),
      defaultRoots: geminiCliRoots,
    });
    return records;
  },
});
