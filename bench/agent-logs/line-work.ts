// The reading threads' share of a cold scan, alone: every dense transcript read
// with readNewLines and its `"usage"` lines parsed by the Claude Code format
// (events counted, not kept), on this thread, from the built packages of a
// checkout (default this one; `/work/main` to compare), in turns with another:
//   tsx agent-logs/line-work.ts [checkout] [other checkout] [rounds]
// Stages: `read` (the reads, the needle search and the line bounds, nothing
// parsed) and `parse` (read + the format). Each stage runs once to warm up,
// then `rounds` times; this thread's CPU time is printed for each.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const dataDir = path.join(here, '../.data/agent-logs-dense/claude/projects');
const [first = path.join(here, '../..'), second, roundsText = '3'] = process.argv.slice(2);
const rounds = Number(roundsText);
const files = execFileSync('find', [dataDir, '-name', '*.jsonl'], { encoding: 'utf8' }).trim().split('\n').sort();

type Format = { lineMustContain?: string; parseLineBytes?: (bytes: Buffer, start: number, end: number, file: unknown) => void };
type ReadNewLines = (file: string, previous: undefined, sink: { bytes: (bytes: Buffer, start: number, end: number, line: number) => void }, onBegin: undefined, mustContain?: string) => Promise<unknown>;

async function load(checkout: string) {
  const agentLogs = (await import(path.join(checkout, 'packages/agent-logs/dist/index.js'))) as { readNewLines: ReadNewLines };
  const claude = (await import(path.join(checkout, 'packages/adapter-claude-code/dist/index.js'))) as { createClaudeCodeFormat: () => Format };
  return { name: checkout, readNewLines: agentLogs.readNewLines, format: claude.createClaudeCodeFormat() };
}

const checkouts = [await load(first), ...(second ? [await load(second)] : [])];
for (const stage of ['read', 'parse'] as const) {
  const times = checkouts.map(() => [] as number[]);
  const counts = checkouts.map(() => ({ lines: 0, events: 0, malformed: 0 }));
  for (let round = 0; round <= rounds; round += 1) {
    for (const [index, checkout] of checkouts.entries()) {
      const count = { lines: 0, events: 0, malformed: 0 };
      const file = { path: '', carry: undefined, emit: () => (count.events += 1) };
      const parse = checkout.format.parseLineBytes as NonNullable<Format['parseLineBytes']>;
      const sink = {
        bytes:
          stage === 'read'
            ? () => (count.lines += 1)
            : (bytes: Buffer, start: number, end: number) => {
                count.lines += 1;
                try {
                  parse(bytes, start, end, file);
                } catch {
                  count.malformed += 1;
                }
              },
      };
      const before = process.cpuUsage();
      for (const name of files) {
        file.path = name;
        await checkout.readNewLines(name, undefined, sink, undefined, checkout.format.lineMustContain);
      }
      const used = process.cpuUsage(before);
      if (round > 0) (times[index] as number[]).push((used.user + used.system) / 1000);
      counts[index] = count;
    }
  }
  for (const [index, checkout] of checkouts.entries()) {
    const sorted = [...(times[index] as number[])].sort((a, b) => a - b);
    console.log(`${stage.padEnd(5)} ${checkout.name}: CPU ${sorted.map((time) => time.toFixed(0)).join(', ')} ms, median ${(sorted[Math.floor(sorted.length / 2)] as number).toFixed(0)} ms`, counts[index]);
  }
}
