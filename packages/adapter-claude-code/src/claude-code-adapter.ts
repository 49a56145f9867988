import { collectAgentLogs } from '@utt/agent-logs';
import { defineAdapter } from '@utt/core';
import { claudeCodeConfigSchema } from './claude-code-config';
import { createClaudeCodeFormat } from './claude-code-format';
import { claudeCodeRoots } from './claude-code-paths';

/**
 * Claude Code usage from its local JSONL transcripts: hourly rows per model,
 * project and machine, de-duplicated, read incrementally through the
 * worker's durable state (a full scan when there is none).
 */
export const claudeCodeAdapter = defineAdapter({
  specificationVersion: 'v1',
  id: 'claude-code',
  sourceSystem: 'claude_code',
  configSchema: claudeCodeConfigSchema,
  capabilities: {
    granularities: ['hour'],
    cacheTokens: 'read_write',
    costSource: 'none',
    measurementBasis: 'exact',
    maxBackfillDays: null,
    windowed: false,
    // Cursors of every file and the de-duplication ledger of every hour: a cycle reads a little of it.
    stateLoading: 'on-demand',
  },
  async check(context) {
    const roots = context.config.paths ?? claudeCodeRoots(context.env);
    return { ok: true, detail: `reads ${roots.join(', ')}` };
  },
  async collect(_window, context) {
    const { records } = await collectAgentLogs(context, {
      agent: 'claude-code',
      provider: 'anthropic',
      format: createClaudeCodeFormat(),
      defaultRoots: claudeCodeRoots,
    });
    return records;
  },
});
