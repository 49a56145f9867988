import { describe, expect, it } from 'vitest';
import { findJsonMembers } from './json-fields';

const pick = (text: string, start: number, names: string[]) => {
  const found = findJsonMembers(text, start, new Set(names));
  return found && Object.fromEntries([...found].map(([key, [from, to]]) => [key, JSON.parse(text.slice(from, to))]));
};

describe('findJsonMembers', () => {
  it('returns the wanted top-level members, skipping nested objects and strings that look like keys', () => {
    const line = JSON.stringify({
      a: 'x "usage":{"input_tokens":9} \\ y',
      message: { content: [{ type: 'tool_use', input: { usage: { input_tokens: 7 }, model: 'fake' } }], model: 'real', usage: { input_tokens: 3 } },
      n: -1.5e3,
      t: true,
      requestId: 'req_1',
    });
    expect(pick(line, 0, ['requestId', 'n', 't', 'usage'])).toEqual({ requestId: 'req_1', n: -1500, t: true });
    const message = findJsonMembers(line, 0, new Set(['message']))?.get('message');
    expect(pick(line, message?.[0] ?? -1, ['model', 'usage'])).toEqual({ model: 'real', usage: { input_tokens: 3 } });
  });

  it('gives up on a truncated object', () => {
    expect(findJsonMembers('{"a":{"b":"c', 0, new Set(['a']))).toBeUndefined();
    expect(findJsonMembers('{"a":1,', 0, new Set(['a']))).toBeUndefined();
    expect(findJsonMembers('[1]', 0, new Set(['a']))).toBeUndefined();
  });
});

describe('findJsonMembers with a nested member', () => {
  it('collects the nested object members in the same pass', () => {
    const line = JSON.stringify({ message: { content: [{ usage: { x: 1 } }], usage: { input_tokens: 3 }, id: 'm' }, requestId: 'r' });
    const found = findJsonMembers(line, 0, new Set(['requestId', 'message']), { member: 'message', wanted: new Set(['usage', 'id']) });
    const read = (key: string) => {
      const range = found?.get(key);
      return range && JSON.parse(line.slice(range[0], range[1]));
    };
    expect([read('requestId'), read('message.usage'), read('message.id'), read('message.content')]).toEqual(['r', { input_tokens: 3 }, 'm', undefined]);
  });
});
