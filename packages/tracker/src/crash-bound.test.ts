import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { RECORD_BATCH } from './create-tracker';

const child = fileURLToPath(new URL('./test-support/crash-child.mjs', import.meta.url));
const streamChild = fileURLToPath(new URL('./test-support/crash-stream-child.mjs', import.meta.url));
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

  it.each([
    { batchSize: 20, total: 300, pace: 0 },
    { batchSize: 8, total: 40, pace: 15 },
  ])(
    'is at most one unflushed batch plus the pending streamed calls (batch $batchSize, $total calls, $pace ms apart)',
    async ({ batchSize, total, pace }) => {
      const folder = await mkdtemp(join(tmpdir(), 'utt-crash-'));
      folders.push(folder);
      const ledger = join(folder, 'ledger');
      const journal = join(folder, 'journal');
      const signal = await new Promise<NodeJS.Signals | null>((resolve, reject) => {
        const process = spawn('node', [streamChild, ledger, journal, String(total), String(batchSize), String(pace)], { stdio: 'inherit' });
        process.on('error', reject);
        process.on('exit', (_code, signal) => resolve(signal));
      });
      expect(signal).toBe('SIGKILL');
      const ended = lines(journal);
      const written = lines(ledger);
      expect(ended).toHaveLength(total);
      // Calls reach the sink in the order their streams ended, each once.
      expect(written).toEqual(ended.slice(0, written.length));
      // What was lost: the tail still pending a record pass (at most RECORD_BATCH) plus the batch waiting for the sink.
      expect(total - written.length).toBeLessThanOrEqual(RECORD_BATCH + batchSize);
      expect(written.length).toBeGreaterThan(0);
    },
    30_000,
  );
});
