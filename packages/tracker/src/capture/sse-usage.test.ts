import { describe, expect, it } from 'vitest';
import { createAnthropicStreamState } from './anthropic-usage';
import { createOpenAIStreamState } from './openai-usage';
import { createSseParser } from './sse-parser';

const feed = (text: string, onData: (data: string) => void, split = 5) => {
  const parser = createSseParser((event) => onData(event.data));
  const bytes = Buffer.from(text);
  for (let offset = 0; offset < bytes.length; offset += split) parser.push(bytes.subarray(offset, offset + split));
  parser.end();
};

describe('stream usage', () => {
  it('reads usage from pretty-printed OpenAI-compatible chunks with CRLF line ends', () => {
    const state = createOpenAIStreamState();
    const chunks = [
      { id: 'cmpl-1', model: 'llama-3', choices: [{ delta: { content: 'hi' } }], usage: null },
      { id: 'cmpl-1', model: 'llama-3', choices: [], usage: { prompt_tokens: 12, completion_tokens: 3 } },
    ];
    feed(chunks.map((chunk) => `data: ${JSON.stringify(chunk, null, 1)}`.replaceAll('\n', '\r\ndata: ') + '\r\n\r\n').join('') + 'data: [DONE]\r\n\r\n', state.event);
    expect(state.facts).toMatchObject({ id: 'cmpl-1', model: 'llama-3', usage: { prompt_tokens: 12, completion_tokens: 3 } });
  });

  it('keeps message_start counts that a later message_delta leaves out or sends as null', () => {
    const state = createAnthropicStreamState();
    const events = [
      { type: 'message_start', message: { id: 'msg_1', model: 'claude-x', usage: { input_tokens: 10, cache_read_input_tokens: 7, output_tokens: 1 } } },
      { type: 'content_block_delta', delta: { type: 'text_delta', text: '"type":"message_delta"' } },
      { type: 'message_delta', usage: { output_tokens: 5, cache_read_input_tokens: null } },
      { type: 'message_delta', usage: { output_tokens: 9 } },
    ];
    feed(events.map((event) => `event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`).join(''), state.event);
    expect(state.complete()).toBe(true);
    expect(state.facts.usage).toMatchObject({ input_tokens: 10, cache_read_input_tokens: 7, output_tokens: 9 });
  });
});
