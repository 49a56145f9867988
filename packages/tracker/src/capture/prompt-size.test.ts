import { describe, expect, it } from 'vitest';
import { estimateInputTokens } from './prompt-size';

describe('estimateInputTokens (one token per UTF-8 byte of the prompt text)', () => {
  it('counts the bytes of every string and key, multi-byte characters included', () => {
    expect(estimateInputTokens('hi')).toBe(2);
    // 'é' is 2 bytes, '✓' 3.
    expect(estimateInputTokens('é✓')).toBe(5);
    // role(4) + user(4) + content(7) + text(4) + hi(2) + type(4) + text(4)
    expect(estimateInputTokens([{ role: 'user', content: [{ type: 'text', text: 'hi' }] }])).toBe(29);
    expect(estimateInputTokens(undefined, null, 'ab')).toBe(2);
  });

  it('leaves out binary parts: bytes, and the data of a part that names its media type', () => {
    expect(estimateInputTokens([{ type: 'file', mediaType: 'image/png', data: 'iVBORw0KGgo'.repeat(1000) }])).toBe('type'.length + 'file'.length + 'mediaType'.length + 'image/png'.length);
    expect(estimateInputTokens({ inlineData: { mimeType: 'application/pdf', data: 'JVBERi0'.repeat(1000) } })).toBe('inlineData'.length + 'mimeType'.length + 'application/pdf'.length);
    expect(estimateInputTokens({ image: new Uint8Array(1_000_000) })).toBe('image'.length);
    // An Anthropic request's image, as the fetch wrapper reads it from the request body.
    expect(estimateInputTokens({ source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo'.repeat(1000) } })).toBe(
      'source'.length + 'type'.length + 'base64'.length + 'media_type'.length + 'image/png'.length,
    );
  });

  it("bounds a non-English prompt, where a third of the request's characters did not", () => {
    // 300 CJK characters are 900 UTF-8 bytes and up to about 300–600 tokens; a third of the JSON text's characters is ~110.
    const body = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: '漢'.repeat(300) }] };
    expect(estimateInputTokens(body)).toBeGreaterThanOrEqual(900);
  });
});
