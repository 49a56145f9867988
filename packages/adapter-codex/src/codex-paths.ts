import path from 'node:path';
import { homeDirectory } from '@utt/agent-logs';

/** `${CODEX_HOME:-~/.codex}/sessions` and `archived_sessions` (where Codex moves old sessions). */
export function codexRoots(env: Readonly<Record<string, string | undefined>>): string[] {
  const home = env.CODEX_HOME || path.join(homeDirectory(env), '.codex');
  return [path.join(home, 'sessions'), path.join(home, 'archived_sessions')];
}
