export { claudeCodeAdapter, claudeCodeAdapter as default } from './claude-code-adapter';
export {
  type ClaudeCodeConfig,
  type ClaudeCodeConfigInput,
  claudeCodeConfigSchema,
  type ClaudeQuotaConfig,
  claudeQuotaConfigSchema,
} from './claude-code-config';
export { claudeCredentialsFile, claudeSignedInAccount, claudeUsageReadings, collectClaudeQuota } from './claude-quota';
export { claudeStatuslineReadings } from './claude-statusline';
export { claudeUsageTokens, createClaudeCodeFormat } from './claude-code-format';
export { claudeCodeRoots } from './claude-code-paths';
export { VERSION } from './version';
