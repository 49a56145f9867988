import { defineProject } from 'vitest/config';

// One long test: packing, npm installs from the registry, a real backfill.
export default defineProject({ test: { include: ['src/**/*.test.ts'], testTimeout: 300_000, hookTimeout: 60_000 } });
