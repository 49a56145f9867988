// Records calls into a file-backed sink and SIGKILLs itself mid-stream: what a
// crash can lose is whatever had not been written yet.
import { appendFileSync } from 'node:fs';
import { createPriceRegistry } from '@utt/pricing';
import { createTracker } from '../../dist/index.js';

const [ledger, journal, total, batchSize, flushIntervalMs, pace] = process.argv.slice(2);
const tracker = await createTracker({
  application: 'crash-test',
  prices: createPriceRegistry({ overrides: { 'openai/gpt-test': { input: 1, output: 1 } } }),
  batchSize: Number(batchSize),
  flushIntervalMs: Number(flushIntervalMs),
  sink: {
    specificationVersion: 'v1',
    async write(calls) {
      appendFileSync(ledger, calls.map((call) => `${call.eventId}\n`).join(''));
    },
  },
});
for (let index = 0; index < Number(total); index += 1) {
  const call = tracker.record({ provider: 'openai', model: 'gpt-test', inputTokens: 1, outputTokens: 1 });
  // The call counts as made once record() returned.
  appendFileSync(journal, `${call.eventId}\n`);
  await new Promise((resolve) => setTimeout(resolve, Number(pace)));
}
process.kill(process.pid, 'SIGKILL');
