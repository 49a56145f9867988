export { claudeCodeAdapter, claudeCodeAdapter as default } from './claude-code-adapter';
export { type ClaudeCodeConfig, type ClaudeCodeConfigInput, claudeCodeConfigSchema } from './claude-code-config';
export { claudeUsageTokens, createClaudeCodeFormat } from './claude-code-format';
export { claudeCodeRoots } from './claude-code-paths';
export { VERSION } from './version';
