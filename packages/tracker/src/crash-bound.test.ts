import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const child = fileURLToPath(new URL('./test-support/crash-child.mjs', import.meta.url));
const dist = fileURLToPath(new URL('../dist/index.js', import.meta.url));

const lines = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : []);

describe.runIf(existsSync(dist))('what a crash can lose', () => {
  const folders: string[] = [];
  afterAll(async () => {
    for (const folder of folders) await rm(folder, { recursive: true, force: true });
  });

  it.each([
    { batchSize: 20, flushIntervalMs: 10_000, pace: 0 },
    { batchSize: 16, flushIntervalMs: 10_000, pace: 1 },
  ])('is at most one unflushed batch (batch $batchSize, interval $flushIntervalMs ms)', async ({ batchSize, flushIntervalMs, pace }) => {
    const folder = await mkdtemp(join(tmpdir(), 'utt-crash-'));
    folders.push(folder);
    const ledger = join(folder, 'ledger');
    const journal = join(folder, 'journal');
    const total = 237;
    const signal = await new Promise<NodeJS.Signals | null>((resolve, reject) => {
      const process = spawn('node', [child, ledger, journal, String(total), String(batchSize), String(flushIntervalMs), String(pace)], { stdio: 'inherit' });
      process.on('error', reject);
      process.on('exit', (_code, signal) => resolve(signal));
    });
    expect(signal).toBe('SIGKILL');
    const recorded = lines(journal);
    const written = new Set(lines(ledger));
    expect(recorded).toHaveLength(total);
    const lost = recorded.filter((id) => !written.has(id));
    // Everything but the tail that was still waiting for its batch reached the sink, in order.
    expect(recorded.slice(0, recorded.length - lost.length).every((id) => written.has(id))).toBe(true);
    expect(lost.length).toBeLessThanOrEqual(batchSize);
    expect(written.size).toBeGreaterThan(0);
  });
});
