// Two weeks of example traffic for `pnpm start`, recorded the way a real
// service records it: through @utt/tracker and the store's tracker sink, so
// the call ledger, the tracker's hourly token_usage cells and the quota
// readings piggybacked on rate-limit headers all come from the real paths.
//
//   node examples/tracker-service/record-example-traffic.mjs [pglite folder] [schema]
//   (DATABASE_URL set: that PostgreSQL server instead of the folder)
//
// support-bot answers with gpt-4o-mini and summarises with claude-sonnet-4-5
// for three tenants (a few background calls carry no tag; a few streams are
// cut before their usage arrives). research-agent runs on a Claude plan whose
// responses carry the unified 5-hour and weekly window headers. Safe to run
// again: each past call has a fixed response id, so a rerun adds only calls
// of hours that were not recorded yet.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTrackerSink, openStore } from '@utt/postgres';
import { createTracker } from '@utt/tracker';
import { seededRandom } from '../shared/seeded-random.mjs';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const here = path.dirname(fileURLToPath(import.meta.url));
const folder = path.resolve(process.argv[2] ?? path.join(here, '../.utt/pglite'));
const store = await openStore({ url: process.env.DATABASE_URL || undefined, path: folder, schema: process.argv[3] ?? 'utt' });

const pick = (next, items) => items[Math.floor(next() * items.length)];

const now = new Date();
const firstHour = Math.floor((now.getTime() - 14 * DAY) / HOUR);
const lastHour = Math.floor(now.getTime() / HOUR);
const options = { sink: createTrackerSink(store), labelTags: ['tenant', 'feature'], flushOnExit: false, flushIntervalMs: 60_000 };
const supportBot = await createTracker({ ...options, application: 'support-bot', instance: 'web-1' });
const researchAgent = await createTracker({ ...options, application: 'research-agent', instance: 'dev@laptop' });

// support-bot: office hours on weekdays, a trickle at night and at weekends.
let recorded = 0;
for (let hour = firstHour; hour <= lastHour; hour += 1) {
  const start = new Date(hour * HOUR);
  const next = seededRandom(hour);
  const busy = start.getUTCDay() % 6 !== 0 && start.getUTCHours() >= 8 && start.getUTCHours() < 19;
  const calls = Math.floor(next() * (busy ? 7 : 2));
  for (let index = 0; index < calls; index += 1) {
    const occurredAt = new Date(start.getTime() + Math.floor(next() * HOUR));
    if (occurredAt > now) continue;
    const summary = next() < 0.35;
    const background = next() < 0.06;
    const cut = next() < 0.03;
    const tags = background ? {} : { tenant: pick(next, ['acme', 'acme', 'globex', 'initech']), feature: summary ? 'summarize' : 'answer' };
    const input = summary ? 1500 + Math.floor(next() * 2500) : 400 + Math.floor(next() * 900);
    const output = summary ? 80 + Math.floor(next() * 160) : 60 + Math.floor(next() * 300);
    supportBot.record({
      provider: summary ? 'anthropic' : 'openai',
      model: summary ? 'claude-sonnet-4-5' : 'gpt-4o-mini',
      operation: summary ? 'messages' : 'chat.completions',
      inputTokens: cut ? null : input,
      outputTokens: cut ? null : output,
      cachedReadTokens: cut ? null : summary ? 0 : Math.floor(next() * 3) * 256,
      cachedWriteTokens: cut || !summary ? null : 0,
      latencyMs: cut ? null : Math.round(300 + next() * (summary ? 2600 : 1400)),
      streaming: cut || next() < 0.3,
      usageOrigin: cut ? 'unknown' : undefined,
      responseId: `example-support-${hour}-${index}`,
      tags,
      occurredAt,
      rateLimitHeaders: summary
        ? {
            'anthropic-ratelimit-requests-limit': '4000',
            'anthropic-ratelimit-requests-remaining': String(4000 - 1 - Math.floor(next() * 40)),
            'anthropic-ratelimit-requests-reset': new Date(occurredAt.getTime() + 60_000).toISOString(),
          }
        : {
            'x-ratelimit-limit-requests': '5000',
            'x-ratelimit-remaining-requests': String(5000 - 1 - Math.floor(next() * 60)),
            'x-ratelimit-reset-requests': '12ms',
          },
    });
    recorded += 1;
  }
}

// research-agent: long sessions on a Claude plan. Its 5-hour window starts at the
// session's first call; the weekly window resets on Saturdays at 09:00 UTC.
const weekStart = (instant) => {
  const day = new Date(Date.UTC(instant.getUTCFullYear(), instant.getUTCMonth(), instant.getUTCDate(), 9));
  day.setUTCDate(day.getUTCDate() - ((day.getUTCDay() + 1) % 7));
  return day > instant ? new Date(day.getTime() - 7 * DAY) : day;
};
let windowStart = null;
let windowCalls = 0;
let weekCalls = 0;
let week = null;
const sessionHours = [];
for (let hour = firstHour; hour <= lastHour; hour += 1) {
  const start = new Date(hour * HOUR);
  if (seededRandom(hour * 7 + 1)() < 0.28 && start.getUTCHours() >= 7 && start.getUTCHours() < 22) sessionHours.push(hour);
}
// Always a session running now, so its windows are fresh when the dashboard opens.
if (sessionHours.at(-1) !== lastHour) sessionHours.push(lastHour);
for (const hour of sessionHours) {
  const next = seededRandom(hour * 13 + 5);
  for (let index = 0; index < 6; index += 1) {
    const occurredAt = hour === lastHour ? new Date(now.getTime() - (6 - index) * 4 * 60_000) : new Date(hour * HOUR + index * 9 * 60_000 + Math.floor(next() * 60_000));
    const currentWeek = weekStart(occurredAt).getTime();
    if (week !== currentWeek) [week, weekCalls] = [currentWeek, 0];
    if (windowStart === null || occurredAt.getTime() >= windowStart + 5 * HOUR) [windowStart, windowCalls] = [occurredAt.getTime(), 0];
    windowCalls += 1;
    weekCalls += 1;
    const fiveHour = Math.min(1, windowCalls * 0.021);
    const weekly = Math.min(1, weekCalls * 0.0042);
    researchAgent.record({
      provider: 'anthropic',
      model: 'claude-sonnet-4-5',
      operation: 'messages',
      inputTokens: 2000 + Math.floor(next() * 4000),
      cachedReadTokens: 20_000 + Math.floor(next() * 60_000),
      cachedWriteTokens: 1000 + Math.floor(next() * 3000),
      outputTokens: 300 + Math.floor(next() * 1500),
      latencyMs: Math.round(4000 + next() * 20_000),
      streaming: true,
      responseId: hour === lastHour ? undefined : `example-research-${hour}-${index}`,
      tags: { project: pick(next, ['utt', 'utt', 'website']), agent: 'researcher' },
      occurredAt,
      rateLimitHeaders: {
        'anthropic-ratelimit-unified-status': fiveHour >= 0.9 || weekly >= 0.9 ? 'allowed_warning' : 'allowed',
        'anthropic-ratelimit-unified-5h-utilization': fiveHour.toFixed(3),
        'anthropic-ratelimit-unified-5h-reset': String(Math.floor((windowStart + 5 * HOUR) / 1000)),
        'anthropic-ratelimit-unified-7d-utilization': weekly.toFixed(3),
        'anthropic-ratelimit-unified-7d-reset': String(Math.floor((currentWeek + 7 * DAY) / 1000)),
      },
    });
    recorded += 1;
  }
}

await supportBot.shutdown();
await researchAgent.shutdown();
const stats = [supportBot.stats(), researchAgent.stats()];
await store.close();
console.log(`example traffic: ${recorded} tracked calls of support-bot and research-agent over the last 14 days (a rerun skips the ones already stored)${stats.some((stat) => stat.dropped > 0) ? '; some calls were dropped, see above' : ''}`);
