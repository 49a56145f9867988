import { readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

describe('the module a scan worker builds the format from', () => {
  it('is the build entry of the format alone, on @utt/agent-logs/line-format', async () => {
    const { createCodexFormat } = (await import(new URL('../dist/index.js', import.meta.url).href)) as typeof import('./codex-format');
    const module = createCodexFormat().workerModule;
    expect(module?.url).toBe(new URL('../dist/codex-format.js', import.meta.url).href);
    const nodeOwn = new Set(builtinModules);
    const imports = [...readFileSync(fileURLToPath(module?.url ?? ''), 'utf8').matchAll(/^import .* from "([^"]+)";$/gm)].map((match) => match[1] as string);
    expect(imports.filter((name) => !nodeOwn.has(name))).toEqual(['@utt/agent-logs/line-format']);
    const built = (await import(module?.url ?? '')) as Record<string, () => { layout: unknown }>;
    expect(typeof built[module?.exportName ?? '']?.().layout).toBe('function');
  });
});
