import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/**
 * Writes realistic Claude Code transcripts: user prompts, tool results (the
 * bulk of the bytes), assistant responses written as several lines (thinking,
 * text, tool_use) whose early copies carry a partial output count, resumed
 * sessions that replay earlier responses, `/btw` sidechains that replay a
 * parent message under a new requestId, Task results that embed a `usage`
 * object in a user line, and synthetic/error rows. Deterministic (seeded).
 */
export type GenerateOptions = { dir: string; targetBytes: number; files: number; seed?: number; startMs?: number; days?: number };

export function generateClaudeTranscripts(options: GenerateOptions): { files: number; bytes: number; lines: number } {
  // mulberry32: exact 32-bit integer arithmetic, so the sequence does not collapse.
  let seed = options.seed ?? 42;
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
  const models = ['claude-opus-4-6', 'claude-sonnet-4-5', 'claude-haiku-4-5'];
  const startMs = options.startMs ?? Date.parse('2026-10-01T00:00:00Z');
  const spanMs = (options.days ?? 30) * 86_400_000;
  const projects = Array.from({ length: 40 }, (_, index) => `/Users/dev/src/project-${index}`);
  const perFile = options.targetBytes / options.files;
  let totalBytes = 0;
  let totalLines = 0;
  const previousResponses: string[] = [];

  for (let fileIndex = 0; fileIndex < options.files; fileIndex += 1) {
    const cwd = projects[fileIndex % projects.length] as string;
    const projectDir = path.join(options.dir, 'projects', cwd.replaceAll('/', '-'));
    mkdirSync(projectDir, { recursive: true });
    const sessionId = uuid();
    const fileTarget = perFile * (0.2 + random() * 1.6);
    let time = startMs + Math.floor(random() * (spanMs - 6 * 3_600_000));
    const lines: string[] = [];
    let bytes = 0;
    const push = (line: string) => {
      lines.push(line);
      bytes += line.length + 1;
    };
    const head = (type: string, sidechain = false) =>
      `{"parentUuid":"${uuid()}","isSidechain":${sidechain},"userType":"external","cwd":"${cwd}","sessionId":"${sessionId}","version":"2.1.63","gitBranch":"main","type":"${type}"`;
    const stamp = () => new Date(time).toISOString();

    // A resumed session starts by replaying responses of an earlier one.
    if (random() < 0.05 && previousResponses.length > 20) {
      for (let index = 0; index < int(5, 20); index += 1) push(previousResponses[int(0, previousResponses.length - 1)] as string);
    }
    while (bytes < fileTarget) {
      time += int(2_000, 90_000);
      push(`${head('user')},"message":{"role":"user","content":"${text(int(80, 600))}"},"uuid":"${uuid()}","timestamp":"${stamp()}"}`);
      const model = models[random() < 0.6 ? 0 : random() < 0.7 ? 1 : 2] as string;
      for (let turn = 0; turn < int(1, 6); turn += 1) {
        time += int(3_000, 40_000);
        const messageId = `msg_01${hex(22)}`;
        const requestId = `req_011${hex(21)}`;
        const input = int(1, 40);
        const cacheRead = int(5_000, 180_000);
        const cache5m = random() < 0.5 ? int(0, 3_000) : 0;
        const cache1h = int(0, 8_000);
        const output = int(20, 4_000);
        const usage = (out: number) =>
          `{"input_tokens":${input},"cache_creation_input_tokens":${cache5m + cache1h},"cache_read_input_tokens":${cacheRead},"cache_creation":{"ephemeral_5m_input_tokens":${cache5m},"ephemeral_1h_input_tokens":${cache1h}},"output_tokens":${out},"service_tier":"standard"}`;
        const blocks = int(1, 3);
        let last = '';
        for (let block = 0; block < blocks; block += 1) {
          const final = block === blocks - 1;
          const content =
            block === 0 && blocks > 1
              ? `[{"type":"thinking","thinking":"${text(int(100, 1_500))}","signature":"${hex(200)}"}]`
              : final
                ? `[{"type":"tool_use","id":"toolu_${hex(24)}","name":"Read","input":{"file_path":"${cwd}/src/${hex(6)}.ts"}}]`
                : `[{"type":"text","text":"${text(int(50, 1_200))}"}]`;
          last = `${head('assistant')},"message":{"model":"${model}","id":"${messageId}","type":"message","role":"assistant","content":${content},"stop_reason":null,"stop_sequence":null,"usage":${usage(final ? output : 1)}},"requestId":"${requestId}","uuid":"${uuid()}","timestamp":"${new Date(time + block * 300).toISOString()}"}`;
          push(last);
        }
        if (random() < 0.02) previousResponses.push(last);
        // A /btw sidechain replays this message under a new requestId.
        if (random() < 0.03) {
          push(
            `${head('assistant', true)},"message":{"model":"${model}","id":"${messageId}","type":"message","role":"assistant","content":[{"type":"text","text":"${text(200)}"}],"stop_reason":null,"stop_sequence":null,"usage":${usage(output)}},"requestId":"req_011${hex(21)}","uuid":"${uuid()}","timestamp":"${new Date(time + 60_000).toISOString()}"}`,
          );
        }
        time += int(500, 5_000);
        // Tool results: most of a transcript's bytes.
        const result = text(int(500, 9_000));
        const taskUsage = random() < 0.05 ? `,"toolUseResult":{"status":"completed","usage":{"input_tokens":12,"output_tokens":345}}` : `,"toolUseResult":{"type":"text"}`;
        push(`${head('user')},"message":{"role":"user","content":[{"tool_use_id":"toolu_${hex(24)}","type":"tool_result","content":"${result}"}]}${taskUsage},"uuid":"${uuid()}","timestamp":"${stamp()}"}`);
      }
      if (random() < 0.01) {
        push(`${head('assistant')},"message":{"model":"<synthetic>","id":"${uuid()}","type":"message","role":"assistant","content":[{"type":"text","text":"No response requested."}],"usage":{"input_tokens":0,"output_tokens":0,"cache_creation_input_tokens":0,"cache_read_input_tokens":0}},"uuid":"${uuid()}","timestamp":"${stamp()}"}`);
      }
      if (random() < 0.05) push(`{"type":"file-history-snapshot","messageId":"${uuid()}","snapshot":{"trackedFileBackups":{},"timestamp":"${stamp()}"},"isSnapshotUpdate":false}`);
    }
    writeFileSync(path.join(projectDir, `${sessionId}.jsonl`), `${lines.join('\n')}\n`);
    totalBytes += bytes;
    totalLines += lines.length;
  }
  return { files: options.files, bytes: totalBytes, lines: totalLines };
}
