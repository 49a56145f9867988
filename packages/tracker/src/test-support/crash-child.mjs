// Records calls into a slow asynchronous sink (a write that awaits a timer, or
// a real PostgreSQL write) and SIGKILLs itself in the middle of a write, with
// calls recorded while that write was under way: what a crash can lose is
// what had not been written yet.
//
// journal: one line per call once record() returned: "<eventId> <ms>".
// writes:  "start <ms> <calls recorded so far> <calls pending, the batch being written included>",
//          "end <ms>" when the sink has the batch, and "kill <ms>" just before the SIGKILL.
import { appendFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { createPriceRegistry } from '@utt/pricing';
import { createTracker } from '../../dist/index.js';

const [ledger, journal, writes, total, batchSize, flushIntervalMs, pace, sinkKind, writeMs, url, schema] = process.argv.slice(2);

let durable;
if (sinkKind === 'postgres') {
  const { createTrackerSink, openStore } = await import('@utt/postgres');
  const store = await openStore({ url, schema, migrate: false });
  durable = createTrackerSink(store, { quotaReadings: false }).write;
} else {
  durable = async (calls) => {
    await sleep(Number(writeMs));
    appendFileSync(ledger, calls.map((call) => `${call.eventId}\n`).join(''));
  };
}

let recorded = 0;
let writeStartedAt = -1;
const tracker = await createTracker({
  application: 'crash-test',
  prices: createPriceRegistry({ overrides: { 'openai/gpt-test': { input: 1, output: 1 } } }),
  batchSize: Number(batchSize),
  flushIntervalMs: Number(flushIntervalMs),
  sink: {
    specificationVersion: 'v1',
    async write(calls) {
      writeStartedAt = recorded;
      appendFileSync(writes, `start ${Date.now()} ${recorded} ${tracker.stats().pending}\n`);
      await durable(calls);
      writeStartedAt = -1;
      appendFileSync(writes, `end ${Date.now()}\n`);
    },
  },
});

for (;;) {
  const call = tracker.record({ provider: 'openai', model: 'gpt-test', inputTokens: 1, outputTokens: 1 });
  recorded += 1;
  // The call counts as made once record() returned.
  appendFileSync(journal, `${call.eventId} ${Date.now()}\n`);
  // Mid-write, with calls recorded since the write began: the worst moment for what is in memory only.
  if (recorded >= Number(total) && writeStartedAt >= 0 && recorded - writeStartedAt >= 3) break;
  await sleep(Number(pace));
}
appendFileSync(writes, `kill ${Date.now()}\n`);
process.kill(process.pid, 'SIGKILL');
