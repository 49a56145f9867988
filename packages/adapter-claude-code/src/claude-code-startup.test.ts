import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

// The built package, as `utt run` loads it.
const built = new URL('../dist/index.js', import.meta.url);

describe('loading the Claude Code adapter', () => {
  it('does not load node:crypto: only a quota read hashes anything (it costs every run about 50 M instructions)', () => {
    // process.moduleLoadList: the Node built-ins loaded so far, in a process of its own.
    const script = `await import(${JSON.stringify(built.href)}); process.stdout.write(String(process.moduleLoadList.includes('NativeModule crypto')));`;
    const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(result.stderr).toBe('');
    expect(result.stdout).toBe('false');
  });
});
