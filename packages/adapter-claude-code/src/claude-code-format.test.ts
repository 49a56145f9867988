import type { TranscriptFile, UsageEvent } from '@utt/agent-logs';
import { describe, expect, it } from 'vitest';
import { createClaudeCodeFormat } from './claude-code-format';

// Lines written by hand, spacing and all: the quick reader must agree with JSON.parse on each.
const line = (usage: string) =>
  `{"isSidechain":false,"sessionId":"s1","message":{"model":"claude-sonnet-4-5","id":"msg_1","content":[{"type":"text","text":"say \\"usage\\": {}"}],"usage":${usage}},"requestId":"req_1","timestamp":"2026-03-01T10:15:00Z"}`;

function parse(text: string): UsageEvent[] {
  const events: UsageEvent[] = [];
  const file: TranscriptFile = { path: '/x/projects/p/s1.jsonl', carry: undefined, emit: (event) => events.push(event) };
  createClaudeCodeFormat().parseLine?.(text, file);
  return events;
}

describe('claude-code format: usage counters', () => {
  it('reads the counters, the 5-minute/1-hour split and nulls without parsing the usage object whole', () => {
    const [event] = parse(
      line('{ "input_tokens" : 12, "cache_creation_input_tokens": 300, "cache_read_input_tokens":4000,"cache_creation":{"ephemeral_5m_input_tokens":100,"ephemeral_1h_input_tokens":200},"output_tokens":null,"server_tool_use":{"web_search_requests":0}}'),
    );
    expect(event?.tokens).toEqual([12, null, 4000, 300, 200, null, 1]);
    expect(event?.key).toBe('msg_1');
    expect(event?.variant).toBe('req_1');
    expect(event?.rank).toBe(4312);
  });

  it('gives numbers that are not plain digits to JSON.parse: an exponent is a number, a leading zero or a string is an error', () => {
    expect(parse(line('{"input_tokens":1e2,"output_tokens":7}'))[0]?.tokens).toEqual([100, 7, null, null, null, null, 1]);
    expect(() => parse(line('{"input_tokens":012,"output_tokens":7}'))).toThrow(SyntaxError);
    expect(() => parse(line('{"input_tokens":"12","output_tokens":7}'))).toThrow('usage.input_tokens: expected a whole number of tokens');
    expect(() => parse(line('{"input_tokens":-3,"output_tokens":7}'))).toThrow('usage.input_tokens: expected a whole number of tokens');
    expect(() => parse(line('{"input_tokens":12,"cache_creation":{"ephemeral_1h_input_tokens":2.5}}'))).toThrow(
      'usage.cache_creation.ephemeral_1h_input_tokens: expected a whole number of tokens',
    );
  });
});
