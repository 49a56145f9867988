#!/usr/bin/env node
// Loopback fakes for the quota demo: Claude's OAuth usage endpoint on 4816
// (the recorded shape in claude-usage.json) and a Slack-compatible incoming
// webhook on 4817 that prints what it receives. 127.0.0.1 only.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));

export async function startFakeProviders({ claudePort = 4816, webhookPort = 4817, onWebhook } = {}) {
  const claude = createServer((request, response) => {
    const authorized = (request.headers.authorization ?? '').startsWith('Bearer sk-ant-oat01-');
    if (request.url !== '/api/oauth/usage' || request.headers['anthropic-beta'] !== 'oauth-2025-04-20') {
      response.writeHead(404).end();
    } else if (!authorized) {
      response.writeHead(401, { 'content-type': 'application/json' }).end('{"error":{"type":"authentication_error"}}');
    } else {
      response.writeHead(200, { 'content-type': 'application/json' }).end(readFileSync(path.join(here, 'claude-usage.json')));
    }
  });
  const webhook = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => (body += chunk));
    request.on('end', () => {
      let text;
      try {
        text = JSON.parse(body).text;
      } catch {
        response.writeHead(400).end('invalid_payload');
        return;
      }
      (onWebhook ?? ((message) => process.stdout.write(`[webhook] ${message}\n`)))(text);
      response.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    });
  });
  await Promise.all([
    new Promise((resolve) => claude.listen(claudePort, '127.0.0.1', resolve)),
    new Promise((resolve) => webhook.listen(webhookPort, '127.0.0.1', resolve)),
  ]);
  return {
    claudeUrl: `http://127.0.0.1:${claude.address().port}`,
    webhookUrl: `http://127.0.0.1:${webhook.address().port}/services/T000/B000/demo`,
    close: () => Promise.all([new Promise((resolve) => claude.close(resolve)), new Promise((resolve) => webhook.close(resolve))]),
  };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const fakes = await startFakeProviders();
  process.stdout.write(`fake Claude usage endpoint: ${fakes.claudeUrl}\nfake webhook: ${fakes.webhookUrl}\nCtrl-C to stop\n`);
  process.on('SIGINT', () => fakes.close().then(() => process.exit(0)));
  process.on('SIGTERM', () => fakes.close().then(() => process.exit(0)));
}
