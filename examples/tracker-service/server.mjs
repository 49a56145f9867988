// A support bot: POST /answer (OpenAI) and POST /summarize (Anthropic), each
// request tagged with its tenant, every tenant held to a daily budget.
import { createServer } from 'node:http';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { createTrackerSink, openStore } from '@utt/postgres';
import { BudgetExceededError, createTracker } from '@utt/tracker';
import { trackAnthropic } from '@utt/tracker/anthropic';
import { trackOpenAI } from '@utt/tracker/openai';

const store = await openStore({ url: process.env.DATABASE_URL, path: process.env.UTT_PGLITE_PATH ?? '.utt/pglite' });

// 1. Create the tracker once. Its budgets come from utt.config.yaml (UTT_CONFIG, else
// the working directory's), the file `utt budget` reads: declared once for both.
const tracker = await createTracker({
  application: 'support-bot',
  sink: createTrackerSink(store),
  labelTags: ['tenant', 'feature'],
  config: true,
  onBudget: (breach) => console.log(`budget ${breach.budget} ${breach.level} for ${JSON.stringify(breach.scopeValues)}: $${breach.periodTotalUsd.toFixed(6)}`),
});

// 2. Wrap the clients; call sites stay as they are.
const openai = trackOpenAI(new OpenAI({ apiKey: process.env.OPENAI_API_KEY ?? 'sk-example', baseURL: process.env.OPENAI_BASE_URL }), tracker);
const anthropic = trackAnthropic(new Anthropic({ apiKey: process.env.ANTHROPIC_API_KEY ?? 'sk-ant-example', baseURL: process.env.ANTHROPIC_BASE_URL }), tracker);

async function answer(question) {
  const completion = await openai.chat.completions.create({ model: 'gpt-4o-mini', max_tokens: 200, messages: [{ role: 'user', content: question }] });
  return completion.choices[0]?.message.content ?? '';
}

async function summarize(text) {
  const message = await anthropic.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 300, messages: [{ role: 'user', content: `Summarize: ${text}` }] });
  return message.content[0]?.type === 'text' ? message.content[0].text : '';
}

const server = createServer(async (request, response) => {
  const tenant = String(request.headers['x-tenant'] ?? 'anonymous');
  let body = '';
  for await (const chunk of request) body += chunk;
  const route = request.url === '/answer' ? answer : request.url === '/summarize' ? summarize : undefined;
  if (!route) {
    response.writeHead(404).end();
    return;
  }
  try {
    const feature = request.url.slice(1);
    const text = await tracker.withTags({ tenant, feature }, () => route(body));
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ text }));
  } catch (error) {
    if (BudgetExceededError.isInstance(error)) {
      response.writeHead(402, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'daily budget reached', budget: error.breach.budget }));
      return;
    }
    response.writeHead(502, { 'content-type': 'application/json' }).end(JSON.stringify({ error: error instanceof Error ? error.message : String(error) }));
  }
});
server.listen(Number(process.env.PORT ?? 3000), '127.0.0.1', () => console.log(`support-bot on http://127.0.0.1:${server.address().port}`));

// 3. Shut down: the tracker installs no signal handler of its own, so the service decides.
process.once('SIGTERM', () => {
  server.close(async () => {
    await tracker.shutdown();
    await store.close();
    console.log(`support-bot stopped: ${JSON.stringify(tracker.stats())}`);
    process.exit(0);
  });
});
