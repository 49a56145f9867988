// The files the example config reads besides the tracker's traffic, written
// for the last two weeks the way their tools write them, so the dashboard's
// Coding agents and Reconciliation pages have something to show on a fresh
// clone (`pnpm start` runs this first):
//
//   .utt/example-files/claude-code/projects/<project>/<session>.jsonl
//       Claude Code transcripts of one laptop on a Claude Max plan (the
//       claude-code source reads them with `billing: subscription`);
//   .utt/example-files/openai-usage.csv and openai-costs.csv
//       an OpenAI project's usage export and what OpenAI billed for the same
//       days (the openai-exports source imports both: utt prices the usage and
//       sets it against the bill).
//
//   node examples/write-example-files.mjs [folder]   (default: examples/.utt/example-files)
//
// Deterministic: a day always gets the same lines, and a later run only
// appends what happened since, as the tools themselves do.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { seededRandom } from './shared/seeded-random.mjs';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const here = path.dirname(fileURLToPath(import.meta.url));
const folder = path.resolve(process.argv[2] ?? path.join(here, '.utt/example-files'));
const now = new Date();
const firstDay = Math.floor(now.getTime() / DAY) - 13;
const lastDay = Math.floor(now.getTime() / DAY);

const pick = (next, items) => items[Math.floor(next() * items.length)];
const between = (next, low, high) => low + Math.floor(next() * (high - low));

/** Writes the file only when its content changed, so an unchanged transcript keeps its size and time. */
async function writeIfChanged(file, text) {
  const old = await readFile(file, 'utf8').catch(() => undefined);
  if (old === text) return false;
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, text);
  return true;
}

// Claude Code: weekday sessions in three repositories; each assistant turn
// grows the cached prefix, and a long turn is written as two lines with the
// same message id (Claude Code does that; utt counts it once).
const PROJECTS = ['/home/dev/src/checkout-service', '/home/dev/src/web-app', '/home/dev/src/infra'];
let transcripts = 0;
for (let day = firstDay; day <= lastDay; day += 1) {
  const next = seededRandom(day * 7919);
  const weekday = new Date(day * DAY).getUTCDay() % 6 !== 0;
  const sessions = weekday ? between(next, 1, 4) : next() < 0.3 ? 1 : 0;
  for (let index = 0; index < sessions; index += 1) {
    const cwd = pick(next, PROJECTS);
    const sessionId = `example-${day}-${index}`;
    const model = next() < 0.8 ? 'claude-sonnet-4-5' : 'claude-haiku-4-5';
    let at = day * DAY + between(next, 8, 18) * HOUR + between(next, 0, 50) * 60_000;
    let context = between(next, 8_000, 20_000);
    const lines = [];
    const turns = between(next, 6, 24);
    for (let turn = 0; turn < turns && at <= now.getTime(); turn += 1) {
      const common = { cwd, sessionId, version: '2.0.14', gitBranch: 'main', isSidechain: false, userType: 'external' };
      lines.push({ ...common, type: 'user', uuid: `${sessionId}-u${turn}`, timestamp: new Date(at).toISOString(), message: { role: 'user', content: 'Next step, please.' } });
      at += between(next, 4_000, 40_000);
      const written = between(next, 200, 2_500);
      const fresh = between(next, 300, 3_000);
      const usage = {
        input_tokens: between(next, 3, 40),
        cache_creation_input_tokens: fresh,
        cache_read_input_tokens: context,
        cache_creation: { ephemeral_5m_input_tokens: fresh, ephemeral_1h_input_tokens: 0 },
        output_tokens: written,
        service_tier: 'standard',
      };
      const id = `msg_example_${day}_${index}_${turn}`;
      const parts = next() < 0.3 ? 2 : 1;
      for (let part = 0; part < parts; part += 1) {
        const stamp = new Date(at + part * 1_000).toISOString();
        lines.push({
          ...common,
          type: 'assistant',
          uuid: `${id}-${part}`,
          timestamp: stamp,
          requestId: `req_example_${day}_${index}_${turn}`,
          message: { model, id, type: 'message', role: 'assistant', content: [{ type: 'text', text: '…' }], stop_reason: part === parts - 1 ? 'end_turn' : null, usage },
        });
      }
      context += fresh + written;
      at += between(next, 20_000, 240_000);
    }
    if (lines.length === 0) continue;
    const project = cwd.replaceAll('/', '-');
    const text = `${lines.map((line) => JSON.stringify(line)).join('\n')}\n`;
    if (await writeIfChanged(path.join(folder, 'claude-code/projects', project, `${sessionId}.jsonl`), text)) transcripts += 1;
  }
}

// OpenAI: an hourly usage export of one project on gpt-5 (no cost column: utt
// prices it), and the bill in OpenAI's line items at the same rates (USD per
// million tokens in examples/utt.config.yaml). Some days also bill web-search
// tool calls that no token count explains, so reconciliation shows a drift;
// today is not billed yet, as the provider's costs arrive a day late.
const NANO_USD_PER_TOKEN = { input: 1250n, cached: 125n, output: 10_000n };
const usageRows = ['bucket_start,provider,model,account,input_tokens,cached_read_tokens,output_tokens,requests'];
const costRows = ['bucket_start,provider,account,model,line_item,amount_usd'];
const usd = (nano) => `${nano / 1_000_000_000n}.${String(nano % 1_000_000_000n).padStart(9, '0')}`;
for (let day = firstDay; day <= lastDay; day += 1) {
  const totals = { input: 0n, cached: 0n, output: 0n };
  for (let hour = 0; hour < 24; hour += 1) {
    const start = day * DAY + hour * HOUR;
    if (start + HOUR > now.getTime()) break;
    const next = seededRandom(start / HOUR + 17);
    if (hour < 6 || next() < 0.25) continue;
    const requests = between(next, 5, 60);
    const input = requests * between(next, 800, 3_000);
    const cached = requests * between(next, 0, 6_000);
    const output = requests * between(next, 150, 900);
    totals.input += BigInt(input);
    totals.cached += BigInt(cached);
    totals.output += BigInt(output);
    usageRows.push(`${new Date(start).toISOString()},openai,gpt-5,proj_batch-summaries,${input},${cached},${output},${requests}`);
  }
  if (day === lastDay) continue;
  const date = new Date(day * DAY).toISOString().slice(0, 10);
  for (const [bucket, item] of [
    ['input', 'gpt-5, input'],
    ['cached', 'gpt-5, cached input'],
    ['output', 'gpt-5, output'],
  ]) {
    if (totals[bucket] > 0n) costRows.push(`${date},openai,proj_batch-summaries,gpt-5,"${item}",${usd(totals[bucket] * NANO_USD_PER_TOKEN[bucket])}`);
  }
  if (seededRandom(day)() < 0.25) costRows.push(`${date},openai,proj_batch-summaries,,web search tool calls,${usd(BigInt(between(seededRandom(day + 1), 2, 12)) * 50_000_000n)}`);
}
await writeIfChanged(path.join(folder, 'openai-usage.csv'), `${usageRows.join('\n')}\n`);
await writeIfChanged(path.join(folder, 'openai-costs.csv'), `${costRows.join('\n')}\n`);

console.log(
  `Example files in ${path.relative(process.cwd(), folder) || '.'}: ${transcripts} Claude Code transcript${transcripts === 1 ? '' : 's'} written or extended, ${usageRows.length - 1} hours of an OpenAI usage export, ${costRows.length - 1} billed line items.`,
);
