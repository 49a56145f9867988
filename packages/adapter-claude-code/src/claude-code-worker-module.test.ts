import { readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';

// The built package, as a scan's worker threads load it.
const built = new URL('../dist/index.js', import.meta.url);

const LINE = JSON.stringify({
  type: 'assistant',
  sessionId: 's1',
  requestId: 'req_1',
  timestamp: '2026-03-01T10:00:00.000Z',
  message: { id: 'msg_1', model: 'claude-sonnet-4-5', content: [{ type: 'text', text: 'hi' }], usage: { input_tokens: 3, output_tokens: 5 } },
});

describe('the module a scan worker builds the Claude Code format from', () => {
  it('is the build entry of the format alone, which loads neither the package index nor @utt/core', async () => {
    const { createClaudeCodeFormat } = (await import(built.href)) as typeof import('./claude-code-format');
    const module = createClaudeCodeFormat().workerModule;
    expect(module?.url).toBe(new URL('../dist/claude-code-format.js', import.meta.url).href);
    // What it imports: the line-reading entry of @utt/agent-logs and Node's own modules, nothing else.
    const imports = (file: string) => [...readFileSync(file, 'utf8').matchAll(/^import .* from "([^"]+)";$/gm)].map((match) => match[1]);
    const nodeOwn = new Set(builtinModules);
    expect(imports(fileURLToPath(module?.url ?? '')).filter((name) => !nodeOwn.has(name as string))).toEqual(['@utt/agent-logs/line-format', '@utt/agent-logs/line-format']);
    expect(imports(fileURLToPath(import.meta.resolve('@utt/agent-logs/line-format'))).filter((name) => !nodeOwn.has(name as string))).toEqual([]);
    // On a thread of its own, as the scan runs it: the format parses a line.
    const script = `
      const { parentPort, workerData } = require('node:worker_threads');
      import(workerData.url).then((module) => {
        const events = [];
        const format = module[workerData.exportName]();
        const line = Buffer.from(workerData.line);
        format.parseLineBytes(line, 0, line.length, { path: '/p/projects/app/s1.jsonl', carry: undefined, emit: (event) => events.push(event) });
        parentPort.postMessage({ events });
      });`;
    const result = await new Promise<{ events: Array<{ tokens: unknown[]; key: string }> }>((resolve, reject) => {
      const worker = new Worker(script, { eval: true, workerData: { url: module?.url, exportName: module?.exportName, line: LINE } });
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    expect(result.events).toHaveLength(1);
    expect(result.events[0]).toMatchObject({ key: 'msg_1', tokens: [3, 5, null, null, null, null, 1] });
  });

  it('comes from the sources themselves when there is no build next to them', async () => {
    const { createClaudeCodeFormat } = await import('./claude-code-format');
    expect(fileURLToPath(createClaudeCodeFormat().workerModule?.url ?? '')).toMatch(/src[/\\]claude-code-format\.ts$/);
  });
});
