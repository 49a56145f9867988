// Makes streamed calls through trackFetch against a loopback provider, writing
// each call's response id to a journal once its stream has been read to the
// end, into a file-backed sink; then SIGKILLs itself. What a crash can lose is
// the unflushed batch plus the streamed calls whose records were still pending.
import { appendFileSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createPriceRegistry } from '@utt/pricing';
import { trackFetch } from '../../dist/fetch.js';
import { createTracker } from '../../dist/index.js';

const [ledger, journal, total, batchSize, pace] = process.argv.slice(2);
const fixture = readFileSync(new URL('../__fixtures__/openai-chat-stream-usage.sse', import.meta.url), 'utf8');
let served = 0;
const server = createServer((request, response) => {
  served += 1;
  const body = fixture.replaceAll('chatcmpl-Str456', `chatcmpl-${served}`);
  request.resume();
  request.on('end', () => {
    response.writeHead(200, { 'content-type': 'text/event-stream' });
    response.end(body);
  });
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const url = `http://127.0.0.1:${server.address().port}/v1/chat/completions`;

const tracker = await createTracker({
  application: 'crash-test',
  prices: createPriceRegistry({ overrides: { 'openai/gpt-test': { input: 1, output: 1 } } }),
  batchSize: Number(batchSize),
  flushIntervalMs: 10_000,
  flushOnExit: false,
  sink: {
    specificationVersion: 'v1',
    async write(calls) {
      appendFileSync(ledger, calls.map((call) => `${call.responseId}\n`).join(''));
    },
  },
});
const fetch = trackFetch(tracker);
const request = {
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ model: 'gpt-test', stream: true, stream_options: { include_usage: true }, messages: [] }),
};
for (let index = 1; index <= Number(total); index += 1) {
  const response = await fetch(url, request);
  for await (const _ of response.body) {
    // read to the end, as a caller does
  }
  // The call counts as made once its stream has ended for the caller.
  appendFileSync(journal, `chatcmpl-${index}\n`);
  if (Number(pace) > 0) await new Promise((resolve) => setTimeout(resolve, Number(pace)));
}
process.kill(process.pid, 'SIGKILL');
