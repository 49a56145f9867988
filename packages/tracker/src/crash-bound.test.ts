import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RECORD_BATCH } from './create-tracker';
import { openTestStore } from './test-support/test-store';

const child = fileURLToPath(new URL('./test-support/crash-child.mjs', import.meta.url));
const streamChild = fileURLToPath(new URL('./test-support/crash-stream-child.mjs', import.meta.url));
const dist = fileURLToPath(new URL('../dist/index.js', import.meta.url));

const lines = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : []);

describe('what a crash can lose', () => {
  beforeAll(() => {
    // Fails, never skips: `turbo run test` builds dist first; a bare `vitest run` needs `pnpm build` before it.
    if (!existsSync(dist)) throw new Error(`${dist} is missing: run \`pnpm build\` in packages/tracker (or \`pnpm turbo run test\`, which builds it) first`);
  });
  const folders: string[] = [];
  afterAll(async () => {
    for (const folder of folders) await rm(folder, { recursive: true, force: true });
  });

  type Crash = { journal: Array<{ id: string; at: number }>; written: Set<string>; writes: string[][] };

  async function crash(args: { batchSize: number; flushIntervalMs: number; pace: number; total: number; sink: 'timer' | 'postgres'; writeMs?: number }, readWritten: (ledger: string) => Promise<Set<string>>, database: { url?: string; schema?: string } = {}): Promise<Crash> {
    const folder = await mkdtemp(join(tmpdir(), 'utt-crash-'));
    folders.push(folder);
    const [ledger, journal, writes] = ['ledger', 'journal', 'writes'].map((name) => join(folder, name)) as [string, string, string];
    const argv = [child, ledger, journal, writes, String(args.total), String(args.batchSize), String(args.flushIntervalMs), String(args.pace), args.sink, String(args.writeMs ?? 0), database.url ?? '', database.schema ?? ''];
    const signal = await new Promise<NodeJS.Signals | null>((resolve, reject) => {
      const process = spawn('node', argv, { stdio: 'inherit' });
      process.on('error', reject);
      process.on('exit', (_code, signal) => resolve(signal));
    });
    expect(signal).toBe('SIGKILL');
    return {
      journal: lines(journal).map((line) => {
        const [id, at] = line.split(' ');
        return { id: id as string, at: Number(at) };
      }),
      written: await readWritten(ledger),
      writes: lines(writes).map((line) => line.split(' ')),
    };
  }

  /**
   * The bound the README states, checked on one crash: the calls lost are the tail of the recorded ones, exactly
   * those not yet written: what was pending when the write in flight began (while the sink keeps up, that batch
   * alone: at most batchSize) and the calls recorded since. The kill came mid-write.
   */
  function checkCrash({ journal, written, writes }: Crash, batchSize: number) {
    const kill = writes.at(-1);
    const inFlight = writes.at(-2);
    expect(kill?.[0]).toBe('kill');
    // SIGKILL mid-write: the last write started and never ended.
    expect(inFlight?.[0]).toBe('start');
    const recordedAtStart = Number(inFlight?.[2]);
    const pendingAtStart = Number(inFlight?.[3]);
    const lost = journal.filter((call) => !written.has(call.id));
    // What reached the sink is every call up to the lost tail, in order.
    expect(journal.slice(0, journal.length - lost.length).every((call) => written.has(call.id))).toBe(true);
    const since = journal.length - recordedAtStart;
    expect(since).toBeGreaterThanOrEqual(3);
    // Lost: at most what was pending when the write began (the batch in flight, and behind it what a slow sink let
    // pile up) plus the calls recorded during the write, i.e. stats().pending at the kill; at least the latter.
    expect(lost.length).toBeLessThanOrEqual(pendingAtStart + since);
    expect(lost.length).toBeGreaterThanOrEqual(since);
    // While the sink keeps up (the batch in flight held everything pending), that is under batchSize + the calls of one write.
    if (pendingAtStart <= batchSize) expect(lost.length).toBeLessThanOrEqual(batchSize + since);
    return { lost, since, pendingAtStart, killAt: Number(kill?.[1]), writes };
  }

  it('is the batch being written plus the calls recorded meanwhile: under 2 × batchSize and the last flush interval + two writes while the sink keeps up (a slow asynchronous sink, SIGKILL mid-write)', async () => {
    const batchSize = 20;
    const flushIntervalMs = 100;
    const result = await crash({ batchSize, flushIntervalMs, pace: 4, total: 150, sink: 'timer', writeMs: 40 }, async (ledger) => new Set(lines(ledger)));
    const { lost, since, pendingAtStart, killAt, writes } = checkCrash(result, batchSize);
    // The sink kept up: the batch in flight was not full, and fewer than batchSize calls came during its write.
    expect(pendingAtStart).toBeLessThan(batchSize);
    expect(since).toBeLessThan(batchSize);
    expect(lost.length).toBeLessThan(2 * batchSize);
    // More than the in-flight batch alone: the calls recorded during the write are lost too.
    expect(lost.length).toBeGreaterThan(pendingAtStart);
    // In time: recorded within the last flushIntervalMs plus the last completed write plus the write in flight.
    const starts = writes.filter((write) => write[0] === 'start').map((write) => Number(write[1]));
    const ends = writes.filter((write) => write[0] === 'end').map((write) => Number(write[1]));
    const lastWrite = (ends.at(-1) ?? 0) - (starts.at(-2) ?? 0);
    const oldestLost = Math.min(...lost.map((call) => call.at));
    // 50 ms of slack for timers firing late on a busy machine.
    expect(killAt - oldestLost).toBeLessThanOrEqual(flushIntervalMs + lastWrite + (killAt - (starts.at(-1) ?? killAt)) + 50);
  }, 30_000);

  it.runIf(process.env.UTT_TEST_DATABASE_URL)('holds with a real PostgreSQL write killed in flight: the lost calls are the batch in the transaction and those recorded since', async () => {
    const { store, schema, dispose } = await openTestStore({ name: 'postgres', url: process.env.UTT_TEST_DATABASE_URL });
    try {
      let cellRequests = -1;
      const result = await crash(
        { batchSize: 20, flushIntervalMs: 1000, pace: 2, total: 300, sink: 'postgres' },
        async () => {
          // The server ends the dead client's transaction on its own time: a COMMIT already sent may still land.
          await new Promise((resolve) => setTimeout(resolve, 500));
          // Calls and cells from one snapshot.
          const rows = await store.client.query<{ event_id: string | null; requests: number }>(
            `SELECT c.event_id, (SELECT COALESCE(SUM(requests), 0)::int FROM "${schema}".token_usage) AS requests
             FROM (SELECT 1) AS one LEFT JOIN "${schema}".tracked_call c ON true`,
          );
          cellRequests = rows[0]?.requests ?? -1;
          return new Set(rows.flatMap((row) => (row.event_id === null ? [] : [row.event_id])));
        },
        { url: process.env.UTT_TEST_DATABASE_URL, schema },
      );
      const { lost } = checkCrash(result, 20);
      expect(result.written.size).toBeGreaterThan(0);
      expect(lost.length).toBeGreaterThan(0);
      // The cells equal the sum of the calls that were written: a transaction killed in flight wrote nothing of either.
      expect(cellRequests).toBe(result.written.size);
    } finally {
      await dispose();
    }
  }, 60_000);

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
