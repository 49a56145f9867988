import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/**
 * Writes Claude Code transcripts dense in usage lines, the other shape a
 * developer's logs take (the default corpus is mostly large tool results):
 * short prompts and tool results between responses, each response written as
 * one to three lines with the same message id and request id (early copies
 * carry `output_tokens: 1`), resumed sessions that begin by replaying the
 * history of an earlier session, `/btw` sidechains, session files copied to
 * another project folder, lines cut short by a crash or garbled, several
 * models, over `days` days. Deterministic (seeded).
 *
 * With the defaults: about 300 MB in 3,362 files under 30 project folders,
 * about 146,000 usage-bearing lines of which about 80,000 are copies of a
 * response already written, about 700 malformed lines, 26 days.
 */
export type DenseGenerateOptions = { dir: string; files?: number; projects?: number; days?: number; seed?: number; startMs?: number };

export type DenseGenerated = {
  files: number;
  bytes: number;
  lines: number;
  usageLines: number;
  /** Usage lines whose message id was written before (split responses, replays, sidechains, copied files). */
  copies: number;
  malformedLines: number;
};

export function generateDenseClaudeTranscripts(options: DenseGenerateOptions): DenseGenerated {
  // mulberry32: exact 32-bit integer arithmetic, so the sequence does not collapse.
  let seed = options.seed ?? 7;
  const random = () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let value = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    value = (value + Math.imul(value ^ (value >>> 7), 61 | value)) ^ value;
    return ((value ^ (value >>> 14)) >>> 0) / 4294967296;
  };
  const int = (min: number, max: number) => min + Math.floor(random() * (max - min + 1));
  const words = 'the of and to in is for that with on as this file function return const value error test build type import export data line code change update fix use state cycle hour token model cache read write request session project'.split(' ');
  const poolParts: string[] = [];
  for (let index = 0; index < 40_000; index += 1) poolParts.push(words[int(0, words.length - 1)] as string);
  const pool = poolParts.join(' ');
  const text = (length: number) => {
    const start = int(0, pool.length - length - 1);
    return pool.slice(start, start + length);
  };
  const hex = (length: number) => {
    let out = '';
    while (out.length < length) out += Math.floor(random() * 0xffffffff).toString(16).padStart(8, '0');
    return out.slice(0, length);
  };
  const uuid = () => `${hex(8)}-${hex(4)}-4${hex(3)}-a${hex(3)}-${hex(12)}`;
  const models = ['claude-opus-4-6', 'claude-sonnet-4-5', 'claude-haiku-4-5', 'claude-opus-4-1', 'claude-sonnet-4-6'];
  const pickModel = () => {
    const draw = random();
    return models[draw < 0.45 ? 0 : draw < 0.75 ? 1 : draw < 0.9 ? 2 : draw < 0.95 ? 3 : 4] as string;
  };
  const fileCount = options.files ?? 3_362;
  const projectCount = options.projects ?? 30;
  const startMs = options.startMs ?? Date.parse('2026-10-01T00:00:00Z');
  const spanMs = (options.days ?? 26) * 86_400_000;
  const projects = Array.from({ length: projectCount }, (_, index) => `/Users/dev/src/service-${index}`);
  const seen = new Set<string>();
  let totalBytes = 0;
  let totalLines = 0;
  let usageLines = 0;
  let copies = 0;
  let malformedLines = 0;
  // Earlier sessions' lines, for resumed sessions and copied files.
  const written: Array<{ cwd: string; lines: string[] }> = [];

  for (let fileIndex = 0; fileIndex < fileCount; fileIndex += 1) {
    const cwd = projects[fileIndex % projects.length] as string;
    const projectDir = path.join(options.dir, 'projects', cwd.replaceAll('/', '-'));
    mkdirSync(projectDir, { recursive: true });
    const sessionId = uuid();
    const lines: string[] = [];
    // The well-formed lines, which later sessions replay or copy.
    const clean: string[] = [];
    const countUsage = (line: string) => {
      const id = /"message":\{"model":"[^"]*","id":"([^"]+)"/.exec(line)?.[1];
      if (id === undefined) return;
      usageLines += 1;
      if (seen.has(id)) copies += 1;
      else seen.add(id);
    };
    const push = (line: string) => {
      lines.push(line);
      clean.push(line);
      countUsage(line);
    };

    // A session file copied into another project folder (a moved checkout, a worktree).
    if (written.length > 40 && random() < 0.05) {
      const original = written[int(written.length - 40, written.length - 1)] as { cwd: string; lines: string[] };
      for (const line of original.lines) push(line);
      writeFileSync(path.join(projectDir, `${sessionId}.jsonl`), `${lines.join('\n')}\n`);
      totalBytes += Buffer.byteLength(lines.join('\n')) + 1;
      totalLines += lines.length;
      continue;
    }

    let time = startMs + Math.floor(random() * (spanMs - 8 * 3_600_000));
    const head = (type: string, sidechain = false) =>
      `{"parentUuid":"${uuid()}","isSidechain":${sidechain},"userType":"external","cwd":"${cwd}","sessionId":"${sessionId}","version":"2.1.63","gitBranch":"main","type":"${type}"`;
    const stamp = () => new Date(time).toISOString();

    // A resumed session begins by replaying the history of an earlier one, whole.
    if (written.length > 20 && random() < 0.22) {
      const earlier = written[int(Math.max(0, written.length - 200), written.length - 1)] as { cwd: string; lines: string[] };
      for (const line of earlier.lines) push(line);
    }
    let model = pickModel();
    const turns = int(3, 19);
    for (let turn = 0; turn < turns; turn += 1) {
      time += int(5_000, 1_800_000);
      if (random() < 0.25) model = pickModel();
      push(`${head('user')},"message":{"role":"user","content":"${text(int(40, 400))}"},"uuid":"${uuid()}","timestamp":"${stamp()}"}`);
      for (let step = 0; step < int(1, 3); step += 1) {
        time += int(2_000, 30_000);
        const messageId = `msg_01${hex(22)}`;
        const requestId = `req_011${hex(21)}`;
        const input = int(1, 60);
        const cacheRead = int(2_000, 160_000);
        const cache5m = random() < 0.4 ? int(0, 4_000) : 0;
        const cache1h = random() < 0.7 ? int(0, 9_000) : 0;
        const output = int(5, 3_000);
        const usage = (out: number) =>
          `{"input_tokens":${input},"cache_creation_input_tokens":${cache5m + cache1h},"cache_read_input_tokens":${cacheRead},"cache_creation":{"ephemeral_5m_input_tokens":${cache5m},"ephemeral_1h_input_tokens":${cache1h}},"output_tokens":${out},"service_tier":"standard"}`;
        const draw = random();
        const blocks = draw < 0.55 ? 1 : draw < 0.85 ? 2 : 3;
        for (let block = 0; block < blocks; block += 1) {
          const final = block === blocks - 1;
          const content =
            block === 0 && blocks > 1
              ? `[{"type":"thinking","thinking":"${text(int(80, 900))}","signature":"${hex(120)}"}]`
              : final
                ? `[{"type":"tool_use","id":"toolu_${hex(24)}","name":"Edit","input":{"file_path":"${cwd}/src/${hex(6)}.ts","old_string":"${text(int(20, 300))}","new_string":"${text(int(20, 300))}"}}]`
                : `[{"type":"text","text":"${text(int(30, 600))}"}]`;
          const line = `${head('assistant')},"message":{"model":"${model}","id":"${messageId}","type":"message","role":"assistant","content":${content},"stop_reason":null,"stop_sequence":null,"usage":${usage(final ? output : 1)}},"requestId":"${requestId}","uuid":"${uuid()}","timestamp":"${new Date(time + block * 250).toISOString()}"}`;
          push(line);
          // A line cut short (a crash mid-write) or garbled: malformed, counted by nobody.
          if (random() < 0.0066) {
            lines.push(random() < 0.5 ? line.slice(0, int(40, line.length - 40)) : `${line.slice(0, 60)}\u0000\u0000${line.slice(62, 200)}`);
            malformedLines += 1;
          }
        }
        // A /btw sidechain replays this response under a new requestId.
        if (random() < 0.04) {
          push(
            `${head('assistant', true)},"message":{"model":"${model}","id":"${messageId}","type":"message","role":"assistant","content":[{"type":"text","text":"${text(120)}"}],"stop_reason":null,"stop_sequence":null,"usage":${usage(output)}},"requestId":"req_011${hex(21)}","uuid":"${uuid()}","timestamp":"${new Date(time + 45_000).toISOString()}"}`,
          );
        }
        time += int(300, 4_000);
        push(`${head('user')},"message":{"role":"user","content":[{"tool_use_id":"toolu_${hex(24)}","type":"tool_result","content":"${text(int(100, 1_200))}"}]},"toolUseResult":{"type":"text"},"uuid":"${uuid()}","timestamp":"${stamp()}"}`);
      }
      if (random() < 0.02) push(`{"type":"file-history-snapshot","messageId":"${uuid()}","snapshot":{"trackedFileBackups":{},"timestamp":"${stamp()}"},"isSnapshotUpdate":false}`);
    }
    writeFileSync(path.join(projectDir, `${sessionId}.jsonl`), `${lines.join('\n')}\n`);
    written.push({ cwd, lines: clean });
    if (written.length > 400) written.shift();
    totalBytes += Buffer.byteLength(lines.join('\n')) + 1;
    totalLines += lines.length;
  }
  return { files: fileCount, bytes: totalBytes, lines: totalLines, usageLines, copies, malformedLines };
}
