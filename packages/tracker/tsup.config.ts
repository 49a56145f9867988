import { defineConfig } from 'tsup';
import { libraryConfig } from '../../tsup.config.base';
import manifest from './package.json' with { type: 'json' };

// One entry per subpath export, so a service that uses one SDK loads one integration.
export default defineConfig(
  libraryConfig(manifest.version, {
    entry: {
      index: 'src/index.ts',
      openai: 'src/integrations/openai.ts',
      anthropic: 'src/integrations/anthropic.ts',
      fetch: 'src/integrations/fetch.ts',
      'ai-sdk': 'src/integrations/ai-sdk.ts',
      'google-genai': 'src/integrations/google-genai.ts',
      // The config schemas alone: utt reads budgets from its config without loading the tracker.
      'budget-config': 'src/budget/budget-config.ts',
    },
    external: ['openai', '@anthropic-ai/sdk', 'ai', '@google/genai'],
    splitting: true,
  }),
);
