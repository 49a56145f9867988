export { codexAdapter, codexAdapter as default } from './codex-adapter';
export { type CodexConfig, type CodexConfigInput, codexConfigSchema, codexQuotaConfigSchema } from './codex-config';
export { chatgptUsageReadings, codexRateLimitReadings, collectCodexQuota } from './codex-quota';
export { type CodexCarry, createCodexFormat, toCoreTokens } from './codex-format';
export { codexRoots } from './codex-paths';
export { VERSION } from './version';
