import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createJsonMemberReader, type JsonMemberSpec } from './json-fields';

/**
 * The wanted members as JSON.parse reads their slices (absent members left
 * out), the text placed between other bytes as a line lies in a read buffer.
 */
const pick = (spec: JsonMemberSpec, text: string, before = '', after = '\n{"x":1}\n') => {
  const reader = createJsonMemberReader(spec);
  const start = Buffer.byteLength(before);
  const end = start + Buffer.byteLength(text);
  const found = reader.read(Buffer.from(before + text + after), start, end);
  if (!found) return undefined;
  const bytes = Buffer.from(before + text + after);
  const out: Record<string, unknown> = {};
  reader.paths.forEach((path, slot) => {
    const from = found[slot * 2] as number;
    if (from === -1) return;
    expect(from).toBeGreaterThanOrEqual(start);
    expect(found[slot * 2 + 1]).toBeLessThanOrEqual(end);
    out[path] = JSON.parse(bytes.toString('utf8', from, found[slot * 2 + 1]));
  });
  return out;
};

/** What JSON.parse finds at each path of the spec, descending only into objects. */
const expectedMembers = (spec: JsonMemberSpec, value: Record<string, unknown>) => {
  const expected: Record<string, unknown> = {};
  const walk = (object: Record<string, unknown>, at: JsonMemberSpec, prefix: string) => {
    for (const [name, child] of Object.entries(at)) {
      if (!Object.hasOwn(object, name)) continue;
      expected[prefix + name] = object[name];
      const nested = object[name];
      if (child !== true && typeof nested === 'object' && nested !== null && !Array.isArray(nested)) walk(nested as Record<string, unknown>, child, `${prefix}${name}.`);
    }
  };
  walk(value, spec, '');
  return expected;
};

describe('createJsonMemberReader', () => {
  it('returns the wanted top-level members, skipping nested objects and strings that look like keys', () => {
    const line = JSON.stringify({
      a: 'x "usage":{"input_tokens":9} \\ y',
      message: { content: [{ type: 'tool_use', input: { usage: { input_tokens: 7 }, model: 'fake' } }], model: 'real', usage: { input_tokens: 3 } },
      n: -1.5e3,
      t: true,
      requestId: 'req_1',
    });
    expect(pick({ requestId: true, n: true, t: true, usage: true }, line)).toEqual({ requestId: 'req_1', n: -1500, t: true });
    expect(pick({ message: { model: true, usage: { input_tokens: true } } }, line)).toEqual({
      message: JSON.parse(line).message,
      'message.model': 'real',
      'message.usage': { input_tokens: 3 },
      'message.usage.input_tokens': 3,
    });
  });

  it('reads an object that starts inside the bytes, and tolerates whitespace', () => {
    const text = `{ "a" : { "b" :\t[1, "]"] } ,\r\n "c":null }`;
    expect(pick({ a: { b: true }, c: true }, text, 'xx')).toEqual({ a: { b: [1, ']'] }, 'a.b': [1, ']'], c: null });
  });

  it('compares keys as UTF-8 bytes and skips multibyte text', () => {
    const line = JSON.stringify({ 'é': 'ü"\\', '日本': { '😀': 2, 'ə': '✓' }, e: 'plain' });
    expect(pick({ 'é': true, '日本': { '😀': true }, e: true }, line, 'ñ')).toEqual({ 'é': 'ü"\\', '日本': { '😀': 2, 'ə': '✓' }, '日本.😀': 2, e: 'plain' });
  });

  it('takes the last of repeated keys, as JSON.parse does, nested members included', () => {
    const line = '{"m":{"u":1,"v":2},"m":{"v":3}}';
    expect(pick({ m: { u: true, v: true } }, line)).toEqual({ m: { v: 3 }, 'm.v': 3 });
    expect(pick({ m: { u: true } }, '{"m":{"u":1},"m":"text"}')).toEqual({ m: 'text' });
  });

  it('gives up on a truncated object, and never reads past the end it is given', () => {
    expect(pick({ a: true }, '{"a":{"b":"c')).toBeUndefined();
    expect(pick({ a: true }, '{"a":1,')).toBeUndefined();
    expect(pick({ a: true }, '{"a":1')).toBeUndefined();
    expect(pick({ a: true }, '{"a":')).toBeUndefined();
    expect(pick({ a: true }, '[1]')).toBeUndefined();
    expect(pick({ a: true }, '')).toBeUndefined();
    expect(pick({ a: { b: true } }, '{"a":{"b":"\\"}}')).toBeUndefined();
    // The rest of the object is in the buffer, after the end: still truncated.
    expect(pick({ a: true }, '{"a":"x', '', '"}\n')).toBeUndefined();
    expect(pick({ a: true }, '{"a":{"b":1}', '', '}\n')).toBeUndefined();
  });

  it('reads a plain Uint8Array as well as a Buffer', () => {
    const reader = createJsonMemberReader({ b: true });
    const bytes = new Uint8Array(Buffer.from('--{"a":"x","b":[2]}'));
    expect(Array.from(reader.read(bytes.subarray(1), 1, 18) ?? [])).toEqual([14, 17]);
  });

  it('names a path the spec does not have, and refuses a name it could only match escaped', () => {
    expect(() => createJsonMemberReader({ a: { b: true } }).slot('a.c')).toThrow(/"a.c" is not in the spec \(a, a.b\)/);
    expect(() => createJsonMemberReader({ a: { 'x"y': true } })).toThrow(/cannot hold a quote or backslash/);
  });

  it('finds exactly what JSON.parse finds in any object', () => {
    const names = fc.constantFrom('a', 'b', 'usage', 'id', 'x"y', 'a\\\\b', 'é', '日本', '😀');
    const spec: JsonMemberSpec = { a: { b: true, usage: { id: true }, '😀': true }, usage: true, id: true, 'é': true, '日本': { a: true } };
    const json = fc.jsonValue({ maxDepth: 3, stringUnit: 'grapheme' });
    const space = fc.constantFrom('', '', ' ', '\n', '\t', '\r\n  ');
    // An object written member by member: keys may repeat, whitespace anywhere JSON allows it.
    const object = (value: fc.Arbitrary<string>) =>
      fc
        .array(fc.tuple(space, names, space, space, value, space), { maxLength: 6 })
        .map((members) => `{${members.map(([s1, name, s2, s3, text, s4]) => `${s1}${JSON.stringify(name)}${s2}:${s3}${text}${s4}`).join(',')}}`);
    const plain = json.chain((value) => fc.constantFrom(JSON.stringify(value), JSON.stringify(value, null, 2) ?? 'null'));
    const nested = object(fc.oneof(plain, object(plain)));
    fc.assert(
      fc.property(object(fc.oneof(plain, nested)), fc.string({ unit: 'grapheme', maxLength: 3 }), (text, before) => {
        expect(pick(spec, text, before)).toEqual(expectedMembers(spec, JSON.parse(text) as Record<string, unknown>));
      }),
      { numRuns: 1000 },
    );
  });
});
