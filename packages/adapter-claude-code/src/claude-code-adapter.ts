import path from 'node:path';
import { collectAgentLogs, type TranscriptFormat } from '@utt/agent-logs';
import { defineAdapter } from '@utt/core';
import { claudeCodeConfigSchema } from './claude-code-config';
import { createClaudeCodeFormat } from './claude-code-format';
import { claudeCodeRoots } from './claude-code-paths';
import { collectClaudeQuota } from './claude-quota';

// One format for the life of the process: a worker's later cycles find its
// caches filled, and V8 keeps the code it optimised for the format's parser
// (with a new format per cycle, a cycle's few lines ran in slower code).
let format: TranscriptFormat | undefined;

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
    // Cost is left to the worker, which then loads no price registry for a cycle that finds nothing new.
    usesPricer: false,
  },
  async check(context) {
    const roots = context.config.paths?.map((root) => path.resolve(context.configDirectory ?? '.', root)) ?? claudeCodeRoots(context.env);
    return { ok: true, detail: `reads ${roots.join(', ')}` };
  },
  async collect(_window, context) {
    const { records } = await collectAgentLogs(context, {
      agent: 'claude-code',
      provider: 'anthropic',
      format: (format ??= createClaudeCodeFormat()),
      defaultRoots: claudeCodeRoots,
    });
    return records;
  },
  collectQuota: collectClaudeQuota,
});
