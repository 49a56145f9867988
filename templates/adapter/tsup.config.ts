import { defineConfig } from 'tsup';

// ESM for Node with declarations: what `npm publish` (or `npm pack`) ships.
export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm'],
  platform: 'node',
  target: 'node20',
  dts: true,
  sourcemap: true,
  clean: true,
});
