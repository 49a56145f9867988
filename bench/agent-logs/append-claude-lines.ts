import { appendFileSync, mkdirSync, statSync, truncateSync, unlinkSync } from 'node:fs';
import path from 'node:path';

/**
 * Appends about `bytes` of new Claude Code lines (responses in one new hour)
 * to `count` existing transcripts plus one new session file, and returns a
 * function that puts the data set back as it was.
 */
export function appendClaudeLines(files: readonly string[], bytes: number, count = 20): { bytesWritten: number; restore: () => void } {
  const chosen = files.filter((_, index) => index % Math.max(1, Math.floor(files.length / count)) === 0).slice(0, count);
  const sizes = chosen.map((file) => [file, statSync(file).size] as const);
  const newDir = path.join(path.dirname(chosen[0] as string), '..', '-Users-dev-src-incremental');
  mkdirSync(newDir, { recursive: true });
  const newFile = path.join(newDir, 'incremental-session.jsonl');
  const targets = [...chosen, newFile];
  const filler = 'x '.repeat(1500);
  let written = 0;
  let counter = 0;
  const hour = Date.parse('2026-11-15T09:00:00Z');
  while (written < bytes) {
    const target = targets[counter % targets.length] as string;
    counter += 1;
    const at = new Date(hour + (counter % 3_000) * 1_000).toISOString();
    const line = `{"parentUuid":null,"isSidechain":false,"userType":"external","cwd":"/Users/dev/src/incremental","sessionId":"incremental-session","version":"2.1.63","gitBranch":"main","type":"assistant","message":{"model":"claude-sonnet-4-5","id":"msg_incr_${counter}","type":"message","role":"assistant","content":[{"type":"text","text":"${filler}"}],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":10,"cache_creation_input_tokens":100,"cache_read_input_tokens":1000,"cache_creation":{"ephemeral_5m_input_tokens":0,"ephemeral_1h_input_tokens":100},"output_tokens":50,"service_tier":"standard"}},"requestId":"req_incr_${counter}","uuid":"u-incr-${counter}","timestamp":"${at}"}\n`;
    appendFileSync(target, line);
    written += line.length;
  }
  return {
    bytesWritten: written,
    restore: () => {
      for (const [file, size] of sizes) truncateSync(file, size);
      unlinkSync(newFile);
    },
  };
}
