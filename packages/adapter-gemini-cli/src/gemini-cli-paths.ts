import path from 'node:path';
import { homeDirectory } from '@utt/agent-logs';

/** `~/.gemini/tmp` (one folder per project hash), or GEMINI_DATA_DIR's `tmp` when set. */
export function geminiCliRoots(env: Readonly<Record<string, string | undefined>>): string[] {
  const base = env.GEMINI_DATA_DIR || path.join(homeDirectory(env), '.gemini');
  return [path.join(base, 'tmp')];
}
