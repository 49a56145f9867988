/**
 * The adapters the worker ships with (its dependencies), imported by name. In
 * the ES build each `import()` resolves to the same file as loading the
 * package from the worker's folder; in the CommonJS bundle (dist/cli-bundle.cjs,
 * see scripts/build-cli-bundle.ts) it is the copy inlined there, which shares
 * the bundle's @utt/core and compile cache instead of loading a second one.
 * loadAdapter uses it only when the config names the very copy installed
 * next to the worker.
 */
export const FIRST_PARTY_ADAPTERS: Readonly<Record<string, () => Promise<unknown>>> = {
  '@utt/adapter-anthropic-usage': () => import('@utt/adapter-anthropic-usage'),
  '@utt/adapter-api-key-quota': () => import('@utt/adapter-api-key-quota'),
  '@utt/adapter-claude-code': () => import('@utt/adapter-claude-code'),
  '@utt/adapter-codex': () => import('@utt/adapter-codex'),
  '@utt/adapter-copilot': () => import('@utt/adapter-copilot'),
  '@utt/adapter-gemini-cli': () => import('@utt/adapter-gemini-cli'),
  '@utt/adapter-litellm-prometheus': () => import('@utt/adapter-litellm-prometheus'),
  '@utt/adapter-manual-import': () => import('@utt/adapter-manual-import'),
  '@utt/adapter-openai-usage': () => import('@utt/adapter-openai-usage'),
  '@utt/adapter-subscription': () => import('@utt/adapter-subscription'),
};
