export { geminiCliAdapter, geminiCliAdapter as default } from './gemini-cli-adapter';
export { type GeminiCliConfig, type GeminiCliConfigInput, geminiCliConfigSchema } from './gemini-cli-config';
export { createGeminiCliFormat, geminiUsageTokens } from './gemini-cli-format';
export { geminiCliRoots } from './gemini-cli-paths';
export { VERSION } from './version';
