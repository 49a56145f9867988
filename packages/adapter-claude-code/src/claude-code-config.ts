import { type AgentLogConfig, type AgentLogConfigInput, agentLogConfigSchema } from '@utt/agent-logs';

/** The `config:` block of a claude-code source (see the README's Configuration table). */
export const claudeCodeConfigSchema = agentLogConfigSchema;
export type ClaudeCodeConfigInput = AgentLogConfigInput;
export type ClaudeCodeConfig = AgentLogConfig;
