import path from 'node:path';
import { homeDirectory } from '@utt/agent-logs';

/**
 * Where Claude Code keeps transcripts: `projects/` under every directory in
 * CLAUDE_CONFIG_DIR (comma-separated), else under both `~/.claude` and the
 * XDG location `${XDG_CONFIG_HOME:-~/.config}/claude` (some versions wrote there).
 */
export function claudeCodeRoots(env: Readonly<Record<string, string | undefined>>): string[] {
  const configured = (env.CLAUDE_CONFIG_DIR ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  if (configured.length > 0) return configured.map((dir) => path.join(dir, 'projects'));
  const home = homeDirectory(env);
  const xdg = env.XDG_CONFIG_HOME || path.join(home, '.config');
  return [path.join(home, '.claude', 'projects'), path.join(xdg, 'claude', 'projects')];
}
