import { type AgentLogConfig, type AgentLogConfigInput, agentLogConfigSchema } from '@utt/agent-logs';

/** The `config:` block of a codex source (see the README's Configuration table). */
export const codexConfigSchema = agentLogConfigSchema;
export type CodexConfigInput = AgentLogConfigInput;
export type CodexConfig = AgentLogConfig;
