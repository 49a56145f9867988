import { appendFileSync, mkdirSync, rmdirSync, statSync, truncateSync, unlinkSync } from 'node:fs';
import path from 'node:path';

/**
 * Appends about `bytes` of new Claude Code lines (responses in one hour, the
 * `round`th after 09:00 on 2026-11-15) to `count` existing transcripts plus
 * one session file in a project directory of its own (both created by the
 * first round), and returns a function that puts the data set back as it
 * was. Rounds are undone last first.
 */
export function appendClaudeLines(files: readonly string[], bytes: number, count = 20, round = 0): { bytesWritten: number; restore: () => void } {
  const chosen = files.filter((_, index) => index % Math.max(1, Math.floor(files.length / count)) === 0).slice(0, count);
  const newDir = path.join(path.dirname(chosen[0] as string), '..', '-Users-dev-src-incremental');
  const newDirExisted = statSync(newDir, { throwIfNoEntry: false }) !== undefined;
  mkdirSync(newDir, { recursive: true });
  const newFile = path.join(newDir, 'incremental-session.jsonl');
  const newFileExisted = statSync(newFile, { throwIfNoEntry: false }) !== undefined;
  const targets = [...chosen, newFile];
  const sizes = (newFileExisted ? targets : chosen).map((file) => [file, statSync(file).size] as const);
  const filler = 'x '.repeat(1500);
  let written = 0;
  let counter = 0;
  const hour = Date.parse('2026-11-15T09:00:00Z') + round * 3_600_000;
  const id = round === 0 ? '' : `r${round}_`;
  while (written < bytes) {
    const target = targets[counter % targets.length] as string;
    counter += 1;
    const at = new Date(hour + (counter % 3_000) * 1_000).toISOString();
    const line = `{"parentUuid":null,"isSidechain":false,"userType":"external","cwd":"/Users/dev/src/incremental","sessionId":"incremental-session","version":"2.1.63","gitBranch":"main","type":"assistant","message":{"model":"claude-sonnet-4-5","id":"msg_incr_${id}${counter}","type":"message","role":"assistant","content":[{"type":"text","text":"${filler}"}],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":10,"cache_creation_input_tokens":100,"cache_read_input_tokens":1000,"cache_creation":{"ephemeral_5m_input_tokens":0,"ephemeral_1h_input_tokens":100},"output_tokens":50,"service_tier":"standard"}},"requestId":"req_incr_${id}${counter}","uuid":"u-incr-${id}${counter}","timestamp":"${at}"}\n`;
    appendFileSync(target, line);
    written += line.length;
  }
  return {
    bytesWritten: written,
    restore: () => {
      for (const [file, size] of sizes) truncateSync(file, size);
      if (!newFileExisted) unlinkSync(newFile);
      if (!newDirExisted) rmdirSync(newDir);
    },
  };
}
