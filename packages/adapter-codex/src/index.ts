export { codexAdapter, codexAdapter as default } from './codex-adapter';
export { type CodexConfig, type CodexConfigInput, codexConfigSchema } from './codex-config';
export { type CodexCarry, createCodexFormat, toCoreTokens } from './codex-format';
export { codexRoots } from './codex-paths';
export { VERSION } from './version';
