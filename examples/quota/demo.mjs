#!/usr/bin/env node
// The quota demo on a fresh clone: starts the loopback fakes, then runs each
// `utt quota` view, the statusline and the alerts against the example config,
// at a fixed time so the output is what the fixtures imply.
import { spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startFakeProviders } from './fake-providers.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const cli = path.join(root, 'apps/worker/dist/cli.js');
const NOW = '2026-12-03T13:30:00Z';
const posts = [];
const fakes = await startFakeProviders({ claudePort: 0, webhookPort: 0, onWebhook: (text) => posts.push(text) });
const env = { ...process.env, UTT_DEMO_CLAUDE_URL: fakes.claudeUrl, UTT_ALERT_WEBHOOK_URL: fakes.webhookUrl, DATABASE_URL: '' };

// Asynchronous: the fakes live in this process and must keep answering while utt runs.
function utt(args, input, now = NOW) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, ...args, '--config', 'examples/quota/quota.config.yaml', '--now', now], { cwd: root, env });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      process.stdout.write(`\n$ utt ${args.join(' ')}\n${output}(exit ${code})\n`);
      resolve(code);
    });
    child.stdin.end(input ?? '');
  });
}

try {
  rmSync(path.join(root, '.utt/quota-demo'), { recursive: true, force: true });
  await utt(['quota']);
  await utt(['quota', 'rotate', '--offline']);
  await utt(['quota', 'resets', '--within', '48h', '--offline']);
  await utt(['quota', 'weekly', '--offline']);
  await utt(['quota', 'underspend', '--offline']);
  // A minute later Claude Code's status line reports 63 % / 23 %. PGlite is single-process:
  // the statusline spools its readings and the next utt quota stores them.
  const minuteLater = '2026-12-03T13:31:00Z';
  await utt(['statusline'], readFileSync(path.join(root, 'examples/quota/statusline.json'), 'utf8'), minuteLater);
  await utt(['quota', '--offline', '--account', 'max@example.com'], undefined, minuteLater);
  await utt(['alerts']);
  await utt(['alerts']);
  process.stdout.write(`\nthe fake webhook received ${posts.length} message(s):\n${posts.map((text) => `  ${text}`).join('\n')}\n`);
} finally {
  await fakes.close();
}
