import { type AgentLogConfig, type AgentLogConfigInput, agentLogConfigSchema } from '@utt/agent-logs';

/** The `config:` block of a gemini-cli source (see the README's Configuration table). */
export const geminiCliConfigSchema = agentLogConfigSchema;
export type GeminiCliConfigInput = AgentLogConfigInput;
export type GeminiCliConfig = AgentLogConfig;
